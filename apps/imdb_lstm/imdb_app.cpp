#include "apps/imdb_lstm/imdb_app.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "apps/common/model_io.hpp"

namespace tg::imdb {
namespace {

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

RecurrentOptions rnn_options(const Config& c) {
  if (c.vocab == 0 || c.maxlen == 0 || c.embed == 0 || c.hidden == 0 || c.layers == 0)
    throw Error("imdb_lstm: vocab, maxlen, embed, hidden and layers must be positive");
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw Error("imdb_lstm: dropout " + std::to_string(c.dropout) + " is not in [0, 1)");
  RecurrentOptions o;
  o.cell = CellType::LSTM;
  o.input_size = c.embed;
  o.hidden_size = c.hidden;
  o.num_layers = c.layers;
  o.bidirectional = c.bidirectional;
  o.dropout = c.dropout;
  return o;
}

std::string str(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::map<std::string, std::string> to_metadata(const Config& c) {
  return {{"app", "imdb_lstm"},
          {"vocab", std::to_string(c.vocab)},
          {"maxlen", std::to_string(c.maxlen)},
          {"embed", std::to_string(c.embed)},
          {"hidden", std::to_string(c.hidden)},
          {"layers", std::to_string(c.layers)},
          {"bidirectional", c.bidirectional ? "1" : "0"},
          {"mask", c.mask ? "1" : "0"},
          {"dropout", str(c.dropout)},
          {"batch", std::to_string(c.batch)},
          {"lr", str(c.lr)},
          {"clip", str(c.clip)},
          {"seed", std::to_string(c.seed)}};
}

Config from_metadata(const std::map<std::string, std::string>& meta, const std::string& path) {
  const std::string app = app::metadata_value(meta, "app", path);
  if (app != "imdb_lstm")
    throw Error(path + ": a checkpoint of '" + app + "', not of imdb_lstm");
  auto number = [&](const std::string& key) -> double {
    const std::string v = app::metadata_value(meta, key, path);
    std::size_t used = 0;
    double d = 0;
    try {
      d = std::stod(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != v.size() || !std::isfinite(d))
      throw Error(path + ": checkpoint metadata '" + key + "' = '" + v + "' is not a number");
    return d;
  };
  auto count = [&](const std::string& key) -> std::size_t {
    const double d = number(key);
    if (d < 0 || d != std::floor(d))
      throw Error(path + ": checkpoint metadata '" + key + "' is not a non-negative integer");
    return static_cast<std::size_t>(d);
  };
  Config c;
  c.vocab = count("vocab");
  c.maxlen = count("maxlen");
  c.embed = count("embed");
  c.hidden = count("hidden");
  c.layers = count("layers");
  c.bidirectional = count("bidirectional") != 0;
  c.mask = count("mask") != 0;
  c.dropout = number("dropout");
  // Training settings are informative: absent ones keep the defaults.
  if (meta.count("batch")) c.batch = count("batch");
  if (meta.count("lr")) c.lr = number("lr");
  if (meta.count("clip")) c.clip = number("clip");
  if (meta.count("seed")) c.seed = count("seed");
  return c;
}

Model::Model(const Config& c, Rng& rng)
    : config(c),
      embedding(tape, c.vocab + 2, c.embed, rng, tg::data::Vocab::kPad),
      rnn(tape, rnn_options(c), rng),
      head(tape, c.hidden * (c.bidirectional ? 2 : 1), 1, rng) {}

void Model::collect(const std::string& prefix, std::vector<NamedParameter<float>>& out) const {
  embedding.collect(prefix + "embedding.", out);
  rnn.collect(prefix + "rnn.", out);
  head.collect(prefix + "head.", out);
}

Var<float> Model::logits(const Tensor<std::int64_t>& ids, const std::vector<int>& lengths,
                         bool training, Rng* rng) {
  if (ids.dimension() != 2)
    throw Error("imdb_lstm: ids must be (time, batch), got " + shape_str(ids.shape()));
  const std::size_t steps = ids.shape()[0], batch = ids.shape()[1];
  const Var<float> x = embedding(ids);  // (T, B, E)
  Tensor<float> mask;
  if (config.mask) {
    if (lengths.size() != batch)
      throw Error("imdb_lstm: " + std::to_string(lengths.size()) + " lengths for a batch of " +
                  std::to_string(batch));
    mask = sequence_mask<float>(lengths, steps, /*left_padded=*/true);
  }
  rnn.training = training;
  const RecurrentOutput<float> out = rnn.forward(x, config.mask ? &mask : nullptr, nullptr, rng);
  // Without a mask the final state is the one after the last (time) step,
  // where left padding puts every review's last token.
  Var<float> h = out.last();  // (B, D*H)
  if (training && config.dropout > 0) {
    if (!rng) throw Error("imdb_lstm: training with dropout needs an Rng");
    h = dropout(h, float(config.dropout), true, *rng);
  }
  return reshape(head(h), Shape{batch});
}

Var<float> Model::logits(const tg::data::ImdbBatch& batch, bool training, Rng* rng) {
  return logits(batch.ids, batch.lengths, training, rng);
}

double accuracy(Model& model, const tg::data::ImdbSplit& split) {
  if (split.size() == 0) return 0;
  const std::size_t chunk = std::max<std::size_t>(model.config.eval_batch, 1);
  std::size_t correct = 0;
  for (std::size_t begin = 0; begin < split.size(); begin += chunk) {
    const tg::data::ImdbBatch b = tg::data::imdb_range(split, begin, chunk);
    {
      auto no_grad = model.tape.no_grad();
      const Var<float> logit = model.logits(b, /*training=*/false, nullptr);
      const float* z = logit.value().data();
      const float* y = b.labels.data();
      for (std::size_t i = 0; i < b.labels.size(); ++i) correct += (z[i] > 0) == (y[i] > 0.5f);
    }
    model.tape.clear();
  }
  return double(correct) / double(split.size());
}

std::vector<double> predict(Model& model, const tg::data::Vocab& vocab,
                            const std::vector<std::string>& texts) {
  const tg::data::ImdbSplit s = tg::data::encode_texts(texts, {}, vocab, model.config.maxlen);
  std::vector<double> p;
  const std::size_t chunk = std::max<std::size_t>(model.config.eval_batch, 1);
  for (std::size_t begin = 0; begin < s.size(); begin += chunk) {
    const tg::data::ImdbBatch b = tg::data::imdb_range(s, begin, chunk);
    {
      auto no_grad = model.tape.no_grad();
      const Var<float> logit = model.logits(b, false, nullptr);
      for (std::size_t i = 0; i < logit.size(); ++i)
        p.push_back(1.0 / (1.0 + std::exp(-double(logit.value().data()[i]))));
    }
    model.tape.clear();
  }
  return p;
}

Trainer::Trainer(Model& model, const tg::data::ImdbSplit& train)
    : model_(model),
      adam_(model.parameters(), float(model.config.lr)),
      batcher_(train, model.config.batch, model.config.seed),
      dropout_rng_(model.config.seed ^ 0x9e3779b97f4a7c15ULL) {
  if (train.size() == 0) throw Error("imdb_lstm: the training split is empty");
}

std::size_t Trainer::steps_per_epoch() const {
  const std::size_t all = batcher_.batches_per_epoch();
  return model_.config.max_batches ? std::min(all, model_.config.max_batches) : all;
}

EpochResult Trainer::train_epoch(const std::function<void(std::size_t, std::size_t, double)>& on_step) {
  using Clock = std::chrono::steady_clock;
  EpochResult r;
  r.epoch = ++epochs_done_;
  const std::size_t total = steps_per_epoch();
  const float clip = float(model_.config.clip);
  double loss_sum = 0;
  for (std::size_t s = 0; s < total; ++s) {
    const tg::data::ImdbBatch b = batcher_.next();  // batch assembly: not timed
    const auto t0 = Clock::now();
    const double c0 = cpu_now();
    adam_.zero_grad();
    const Var<float> loss =
        bce_with_logits(model_.logits(b, /*training=*/true, &dropout_rng_), b.labels);
    model_.tape.backward(loss);
    if (clip > 0) clip_grad_norm(adam_.params(), clip);
    adam_.step();
    const double l = loss.item();
    model_.tape.clear();
    r.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    r.cpu_seconds += cpu_now() - c0;
    loss_sum += l * b.labels.size();
    r.examples += b.labels.size();
    ++r.steps;
    if (on_step) on_step(s + 1, total, loss_sum / r.examples);
  }
  // A shortened epoch (max_batches) still starts the next one on a fresh
  // permutation, as the PyTorch twin does.
  for (std::size_t s = total; s < batcher_.batches_per_epoch(); ++s) batcher_.next();
  r.train_loss = r.examples ? loss_sum / r.examples : 0;
  return r;
}

tg::data::Imdb load_data(const std::string& data, const Config& c, bool keep_text) {
  tg::data::ImdbOptions o;
  o.vocab_tokens = c.vocab;
  o.maxlen = c.maxlen;
  o.keep_text = keep_text;
  const std::filesystem::path p(data);
  std::error_code ec;
  if (!data.empty() && std::filesystem::is_regular_file(p, ec)) return tg::data::load_imdb(p, o);
  return tg::data::fetch_imdb(p, o);
}

std::string vocab_path(const std::string& checkpoint) { return checkpoint + ".vocab"; }

void save_checkpoint(const std::string& path, Model& model, Adam<float>* optimizer,
                     const tg::data::Vocab& vocab, std::size_t epochs_done) {
  if (vocab.size() != model.config.vocab + 2)
    throw Error("imdb_lstm: a vocabulary of " + std::to_string(vocab.size()) +
                " ids for an embedding of " + std::to_string(model.config.vocab + 2) + " rows");
  auto meta = to_metadata(model.config);
  meta["epochs_done"] = std::to_string(epochs_done);
  // The vocabulary first: a checkpoint on disk always has its vocabulary.
  vocab.save(vocab_path(path));
  app::save_model(path, model, optimizer, meta);
}

Loaded load_checkpoint(const std::string& path) {
  const auto meta = app::read_metadata(path);
  Loaded l;
  Config c = from_metadata(meta, path);
  Rng rng(c.seed);
  l.model = std::make_unique<Model>(c, rng);
  l.metadata = app::load_model(path, *l.model);
  if (meta.count("epochs_done"))
    l.epochs_done = static_cast<std::size_t>(std::stoull(meta.at("epochs_done")));
  const std::string vp = vocab_path(path);
  if (!std::filesystem::exists(vp))
    throw Error(path + ": its vocabulary " + vp + " is missing (saved beside the checkpoint)");
  l.vocab = tg::data::Vocab::load(vp);
  if (l.vocab.size() != c.vocab + 2)
    throw Error(vp + ": " + std::to_string(l.vocab.size()) + " ids, but the checkpoint " + path +
                " has an embedding of " + std::to_string(c.vocab + 2) + " rows (vocab " +
                std::to_string(c.vocab) + "): the vocabulary belongs to another model");
  return l;
}

void load_optimizer(const std::string& path, Model& model, Adam<float>& optimizer) {
  app::load_model(path, model, &optimizer);
}

void check_settings(const Config& w, const Config& k, const std::vector<std::string>& given,
                    const std::string& path) {
  auto has = [&](const char* n) { return std::find(given.begin(), given.end(), n) != given.end(); };
  std::string diff;
  auto cmp = [&](const char* name, double want, double have) {
    if (has(name) && want != have)
      diff += std::string(diff.empty() ? "" : ", ") + "--" + name + " " + str(want) +
              " (checkpoint: " + str(have) + ")";
  };
  cmp("vocab", double(w.vocab), double(k.vocab));
  cmp("maxlen", double(w.maxlen), double(k.maxlen));
  cmp("embed", double(w.embed), double(k.embed));
  cmp("hidden", double(w.hidden), double(k.hidden));
  cmp("layers", double(w.layers), double(k.layers));
  cmp("bidirectional", w.bidirectional, k.bidirectional);
  cmp("mask", w.mask, k.mask);
  cmp("dropout", w.dropout, k.dropout);
  if (!diff.empty())
    throw Error(path + ": the checkpoint's model differs from the options given: " + diff);
}

}  // namespace tg::imdb
