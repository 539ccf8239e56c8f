#include "apps/slot_filling/slot_app.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "apps/common/model_io.hpp"
#include "optim/optim.hpp"

namespace tg::slotapp {
namespace {

RecurrentOptions recurrent_options(const ModelConfig& c) {
  RecurrentOptions o;
  o.cell = parse_cell_type(c.cell);
  o.input_size = c.embed;
  o.hidden_size = c.hidden;
  o.num_layers = c.layers;
  o.bidirectional = c.bidirectional;
  o.dropout = c.dropout;
  return o;
}

std::size_t parse_count(const std::map<std::string, std::string>& meta, const std::string& key,
                        const std::string& path) {
  const std::string v = app::metadata_value(meta, key, path);
  try {
    std::size_t used = 0;
    const unsigned long long n = std::stoull(v, &used);
    if (used == v.size() && !v.empty() && v[0] != '-') return static_cast<std::size_t>(n);
  } catch (const std::exception&) {
  }
  throw Error(path + ": checkpoint metadata '" + key + "' = '" + v + "' is not a count");
}

// A sentence of word ids as a (T, 1) batch.
xt::xarray<std::int64_t> column(const std::vector<std::int64_t>& ids) {
  xt::xarray<std::int64_t> w = xt::xarray<std::int64_t>::from_shape({ids.size(), std::size_t{1}});
  for (std::size_t t = 0; t < ids.size(); ++t) w(t, 0) = ids[t];
  return w;
}

// Restores a tagger's training flag when leaving a scope.
class EvalMode {
 public:
  explicit EvalMode(Tagger& t) : t_(t), was_(t.training()) { t_.set_training(false); }
  ~EvalMode() { t_.set_training(was_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Tagger& t_;
  bool was_;
};

}  // namespace

std::map<std::string, std::string> ModelConfig::to_metadata() const {
  return {{"app", "slot_filling"},
          {"model.vocab_size", std::to_string(vocab_size)},
          {"model.tag_count", std::to_string(tag_count)},
          {"model.embed", std::to_string(embed)},
          {"model.hidden", std::to_string(hidden)},
          {"model.layers", std::to_string(layers)},
          {"model.cell", cell},
          {"model.bidirectional", bidirectional ? "1" : "0"},
          {"model.dropout", std::to_string(dropout)}};
}

ModelConfig ModelConfig::from_metadata(const std::map<std::string, std::string>& meta,
                                       const std::string& path) {
  auto app_it = meta.find("app");
  if (app_it == meta.end() || app_it->second != "slot_filling")
    throw Error(path + ": not a slot_filling checkpoint (metadata 'app' is '" +
                (app_it == meta.end() ? std::string("absent") : app_it->second) + "')");
  ModelConfig c;
  c.vocab_size = parse_count(meta, "model.vocab_size", path);
  c.tag_count = parse_count(meta, "model.tag_count", path);
  c.embed = parse_count(meta, "model.embed", path);
  c.hidden = parse_count(meta, "model.hidden", path);
  c.layers = parse_count(meta, "model.layers", path);
  c.cell = app::metadata_value(meta, "model.cell", path);
  const std::string bi = app::metadata_value(meta, "model.bidirectional", path);
  if (bi != "0" && bi != "1")
    throw Error(path + ": checkpoint metadata 'model.bidirectional' = '" + bi + "' is not 0 or 1");
  c.bidirectional = bi == "1";
  c.dropout = std::stod(app::metadata_value(meta, "model.dropout", path));
  return c;
}

Tagger::Tagger(Tape<float>& t, const ModelConfig& c, Rng& rng)
    : config(c),
      tape(t),
      embedding(t, c.vocab_size, c.embed, rng, slots::Vocab::kPad),
      rnn(t, recurrent_options(c), rng),
      output(t, c.hidden * (c.bidirectional ? 2 : 1), c.tag_count, rng) {
  if (c.vocab_size < 2 || c.tag_count < 1 || c.embed == 0 || c.hidden == 0 || c.layers == 0)
    throw Error("slot tagger: bad shape (vocabulary " + std::to_string(c.vocab_size) + ", tags " +
                std::to_string(c.tag_count) + ", embed " + std::to_string(c.embed) + ", hidden " +
                std::to_string(c.hidden) + ", layers " + std::to_string(c.layers) + ")");
}

void Tagger::set_training(bool on) {
  training_ = on;
  rnn.training = on;
}

void Tagger::collect(const std::string& prefix, std::vector<NamedParameter<float>>& out) const {
  embedding.collect(prefix + "embedding.", out);
  rnn.collect(prefix + "rnn.", out);
  output.collect(prefix + "output.", out);
}

Var<float> Tagger::forward(const xt::xarray<std::int64_t>& words, const std::vector<std::size_t>& lengths,
                           Rng& rng) {
  if (words.dimension() != 2 || words.shape()[1] != lengths.size())
    throw Error("slot tagger: words of shape " + shape_str(words.shape()) + " for " +
                std::to_string(lengths.size()) + " lengths");
  const float p = static_cast<float>(config.dropout);
  Var<float> e = embedding.forward(words);  // (T, B, E)
  if (training_ && p > 0) e = dropout(e, p, true, rng);
  const Tensor<float> mask = sequence_mask<float>(lengths, words.shape()[0]);
  Var<float> h = rnn.forward(e, &mask, nullptr, &rng).output;  // (T, B, D*H)
  if (training_ && p > 0) h = dropout(h, p, true, rng);
  return output.forward(h);  // (T, B, C)
}

xt::xarray<std::int64_t> argmax_tags(const Tensor<float>& s) {
  if (s.dimension() != 3) throw Error("argmax_tags: scores of shape " + shape_str(s.shape()));
  const std::size_t T = s.shape()[0], B = s.shape()[1], C = s.shape()[2];
  xt::xarray<std::int64_t> ids = xt::xarray<std::int64_t>::from_shape({T, B});
  const float* p = s.data();
  for (std::size_t r = 0; r < T * B; ++r, p += C)
    ids.data()[r] = static_cast<std::int64_t>(std::max_element(p, p + C) - p);
  return ids;
}

SlotModel make_model(const slots::SlotData& data, ModelConfig config, std::uint64_t seed,
                     std::size_t min_count) {
  if (data.train.empty()) throw Error("slot_filling: the train split is empty");
  SlotModel m;
  m.vocab = slots::Vocab::build(data.train, min_count);
  m.tags = slots::TagSet::build(data.train);
  config.vocab_size = m.vocab.size();
  config.tag_count = m.tags.size();
  m.tape = std::make_unique<Tape<float>>();
  Rng init(seed);
  m.tagger = std::make_unique<Tagger>(*m.tape, config, init);
  return m;
}

slots::ChunkScorer evaluate(SlotModel& model, const std::vector<slots::Utterance>& split,
                            std::size_t chunk) {
  slots::ChunkScorer scorer;
  if (split.empty()) return scorer;
  const slots::EncodedSplit enc = slots::encode(split, model.vocab, model.tags);
  EvalMode eval(*model.tagger);
  Rng unused(0);
  Tape<float>& tape = *model.tape;
  for (const auto& idx : slots::batch_indices(split.size(), chunk)) {
    const slots::Batch b = slots::make_batch(enc, idx);
    {
      auto g = tape.no_grad();
      const Var<float> scores = model.tagger->forward(b.words, b.lengths, unused);
      const auto pred = slots::decode_tags(argmax_tags(scores.value()), b.lengths, model.tags);
      for (std::size_t c = 0; c < pred.size(); ++c) scorer.add(split[b.index[c]].tags, pred[c]);
    }
    tape.clear();
  }
  return scorer;
}

std::vector<std::string> tag_words(SlotModel& model, const std::vector<std::string>& words) {
  if (words.empty()) return {};
  EvalMode eval(*model.tagger);
  Rng unused(0);
  std::vector<std::string> out;
  {
    auto g = model.tape->no_grad();
    const Var<float> scores =
        model.tagger->forward(column(model.vocab.encode(words)), {words.size()}, unused);
    out = slots::decode_tags(argmax_tags(scores.value()), {words.size()}, model.tags)[0];
  }
  model.tape->clear();
  return out;
}

std::string tagging_report(const std::vector<std::string>& words, const std::vector<std::string>& tags) {
  std::size_t width = 0;
  for (const auto& w : words) width = std::max(width, w.size());
  std::string s;
  for (std::size_t i = 0; i < words.size(); ++i)
    s += "  " + words[i] + std::string(width - words[i].size() + 2, ' ') + tags[i] + "\n";
  const auto slots_found = slots::filled_slots(words, tags);
  if (slots_found.empty()) return s + "  slots: none\n";
  for (const auto& f : slots_found) s += "  " + f.name + ": " + f.value + "\n";
  return s;
}

TrainResult train(SlotModel& model, const slots::SlotData& data, const TrainConfig& cfg,
                  const std::function<void(std::size_t, std::size_t, double)>& on_step,
                  const std::function<void(const EpochReport&)>& on_epoch) {
  if (cfg.batch == 0) throw Error("slot_filling: batch size 0");
  Tagger& tagger = *model.tagger;
  Tape<float>& tape = *model.tape;
  const slots::EncodedSplit train_set = slots::encode(data.train, model.vocab, model.tags);
  std::vector<std::size_t> lengths;
  for (const auto& w : train_set.words) lengths.push_back(w.size());
  const auto params = tagger.parameters();
  Adam<float> opt(params, static_cast<float>(cfg.lr));
  slots::Rng data_rng(cfg.seed * 0x9E3779B97F4A7C15ULL + 17);  // shuffling, word dropout
  Rng drop_rng(cfg.seed + 1);                                  // dropout masks

  TrainResult result;
  std::vector<Tensor<float>> best;
  std::size_t since_best = 0;
  for (std::size_t epoch = 1; epoch <= cfg.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    tagger.set_training(true);
    const auto batches = cfg.buckets ? length_buckets(lengths, cfg.batch, data_rng)
                                     : slots::batch_indices(train_set.words.size(), cfg.batch, &data_rng);
    double loss_sum = 0;
    std::size_t done = 0;
    for (const auto& idx : batches) {
      slots::Batch b = slots::make_batch(train_set, idx);
      if (cfg.word_dropout > 0) slots::word_dropout(b, cfg.word_dropout, data_rng);
      const std::vector<std::int64_t> targets(b.tags.begin(), b.tags.end());
      const std::vector<float> weights(b.mask.begin(), b.mask.end());
      const Var<float> loss = cross_entropy(tagger.forward(b.words, b.lengths, drop_rng), targets, weights);
      const float l = loss.item();
      if (!std::isfinite(l))
        throw Error("slot_filling: the training loss became " + std::to_string(l) + " at epoch " +
                    std::to_string(epoch) + " (try a smaller --lr)");
      tape.backward(loss);
      if (cfg.clip > 0) clip_grad_norm(params, static_cast<float>(cfg.clip));
      opt.step();
      opt.zero_grad();
      tape.clear();
      loss_sum += l;
      ++done;
      if (on_step) on_step(done, batches.size(), loss_sum / done);
    }
    EpochReport rep;
    rep.epoch = epoch;
    rep.loss = loss_sum / std::max<std::size_t>(done, 1);
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rep.cpu_seconds = double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    rep.valid_f1 = evaluate(model, data.valid).total().f1();
    // Without a valid split every epoch is the best so far: the last one is kept.
    rep.best = data.valid.empty() || rep.valid_f1 > result.best_valid_f1;
    if (rep.best) {
      result.best_epoch = epoch;
      result.best_valid_f1 = rep.valid_f1;
      best.clear();
      for (const auto& p : params) best.push_back(p.value());
      since_best = 0;
    } else {
      ++since_best;
    }
    result.epochs.push_back(rep);
    if (on_epoch) on_epoch(rep);
    if (cfg.patience > 0 && since_best >= cfg.patience) break;
  }
  if (!best.empty())
    for (std::size_t i = 0; i < params.size(); ++i) {
      Var<float> p = params[i];
      p.value() = best[i];
    }
  tagger.set_training(false);
  return result;
}

std::vector<std::vector<std::size_t>> length_buckets(const std::vector<std::size_t>& lengths,
                                                     std::size_t batch, slots::Rng& rng) {
  if (batch == 0) throw Error("slot_filling: batch size 0");
  auto shuffle = [&rng](auto& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
  };
  std::vector<std::size_t> order(lengths.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  shuffle(order);
  const std::size_t pool = 50 * batch;
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t p = 0; p < order.size(); p += pool) {
    const auto first = order.begin() + p, last = order.begin() + std::min(order.size(), p + pool);
    std::stable_sort(first, last, [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
    for (auto it = first; it < last; it += std::min<std::ptrdiff_t>(batch, last - it))
      batches.emplace_back(it, it + std::min<std::ptrdiff_t>(batch, last - it));
  }
  shuffle(batches);
  return batches;
}

std::string vocab_path(const std::string& checkpoint) { return checkpoint + ".vocab"; }
std::string tags_path(const std::string& checkpoint) { return checkpoint + ".tags"; }

void save(const SlotModel& model, const std::string& path) {
  model.vocab.save(vocab_path(path));
  model.tags.save(tags_path(path));
  app::save_model<float>(path, *model.tagger, nullptr, model.tagger->config.to_metadata());
}

SlotModel load(const std::string& path) {
  const ModelConfig config = ModelConfig::from_metadata(app::read_metadata(path), path);
  SlotModel m;
  m.vocab = slots::Vocab::load(vocab_path(path));
  m.tags = slots::TagSet::load(tags_path(path));
  if (m.vocab.size() != config.vocab_size)
    throw Error(vocab_path(path) + ": " + std::to_string(m.vocab.size()) + " words, but the checkpoint " +
                path + " was trained with " + std::to_string(config.vocab_size));
  if (m.tags.size() != config.tag_count)
    throw Error(tags_path(path) + ": " + std::to_string(m.tags.size()) + " tags, but the checkpoint " +
                path + " was trained with " + std::to_string(config.tag_count));
  m.tape = std::make_unique<Tape<float>>();
  Rng init(0);
  m.tagger = std::make_unique<Tagger>(*m.tape, config, init);
  app::load_model<float>(path, *m.tagger, nullptr);
  m.tagger->set_training(false);
  return m;
}

}  // namespace tg::slotapp
