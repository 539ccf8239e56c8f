#include "apps/imdb_lstm/imdb_app.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/core.h>

#include "apps/common/explain.hpp"
#include "apps/common/main.hpp"
#include <tapegrad/autograd/profiler.hpp>
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/datasets/sha256.hpp>
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/datasets/fetch.hpp>
#include <tapegrad/parallel/data_parallel.hpp>

namespace tg::imdb {
namespace {

// The settings that define the model: a checkpoint must hold every one.
constexpr const char* kModelFlags[] = {"--vocab",  "--maxlen",        "--embed", "--hidden",
                                       "--layers", "--bidirectional", "--mask",  "--dropout"};

RecurrentOptions rnn_options(const Settings& s) {
  return RecurrentOptions(s.embed, s.hidden)
      .cell(CellType::LSTM)
      .num_layers(s.layers)
      .bidirectional(s.bidirectional)
      .dropout(s.dropout)
      .return_sequences(false);  // the head reads only the final state
}

std::string shorten(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

// Throws tg::Error naming the key when a --load checkpoint lacks a model
// setting (the frame would silently keep the flag's default).
void require_model_settings(const nlohmann::json& meta, const std::string& path) {
  for (const char* flag : kModelFlags) ckpt::at(meta, std::string("/config/") + flag, path);
}

// Reviews begin .. begin+count-1 of `split` classified right (logit > 0
// means positive), `chunk` at a time under no_grad, dropout off.
std::size_t count_correct(Model& model, const data::ImdbSplit& split, std::size_t begin,
                          std::size_t count, std::size_t chunk) {
  chunk = std::max<std::size_t>(chunk, 1);
  const ProjectedVocabulary projected(model);
  std::size_t correct = 0;
  for (std::size_t at = begin; at < begin + count; at += chunk) {
    const data::ImdbBatch b = data::imdb_range(split, at, std::min(chunk, begin + count - at));
    {
      auto no_grad = model.tape.no_grad();
      const Var<float> logit = model.logits(b, /*training=*/false, nullptr);
      const float* z = logit.value().data();
      const float* y = b.labels.data();
      for (std::size_t i = 0; i < b.labels.size(); ++i) correct += (z[i] > 0) == (y[i] > 0.5f);
    }
    model.tape.clear();
  }
  return correct;
}

// accuracy() over every process of the run (collective): each classifies its
// contiguous share of the split and the counts are summed, so N processes
// take 1/N of the time and every one gets the whole split's accuracy.
double accuracy_over_ranks(Model& model, const data::ImdbSplit& split, std::size_t chunk) {
  if (split.size() == 0) return 0;
  const parallel::Range mine = parallel::share_of(split.size(), parallel::rank(), parallel::size());
  double correct = double(count_correct(model, split, mine.begin, mine.count, chunk));
  parallel::allreduce_sum(&correct, 1);
  return correct / double(split.size());
}

// The accuracies --eval asks for, timed into `seconds` (collective).
train::Metrics accuracies(Model& model, const Settings& s, const data::Imdb& d, double* seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  train::Metrics m;
  if (s.eval == "both") m.emplace_back("train_acc", accuracy_over_ranks(model, d.train, s.eval_batch));
  if (s.eval != "none") m.emplace_back("test_acc", accuracy_over_ranks(model, d.test, s.eval_batch));
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

double value_of(const train::Metrics& m, const std::string& name) {
  for (const auto& [k, v] : m)
    if (k == name) return v;
  return -1;
}

// "  train acc 0.9334  test acc 0.8516"
std::string metrics_text(const train::Metrics& m) {
  std::string text;
  for (const auto& [name, value] : m) {
    std::string label = name;
    std::replace(label.begin(), label.end(), '_', ' ');
    text += fmt::format("  {} {:.4f}", label, value);
  }
  return text;
}

// The protocol's line per evaluation: "epoch 3: train loss 0.2605  train acc
// 0.9334  test acc 0.8516  epoch time 29.5 s (75.4 ms/step)  [evaluation 20 s]".
// `since` is the previous row (or the start of this process's training).
std::string evaluation_line(const train::Row& row, const train::Row& since, std::size_t per_epoch,
                            double eval_seconds) {
  const bool epoch_end = row.step % per_epoch == 0;
  std::string line = epoch_end ? fmt::format("epoch {}: train loss {:.4f}", row.epoch, row.loss)
                               : fmt::format("step {} (epoch {}): train loss {:.4f}", row.step,
                                             row.epoch, row.loss);
  line += metrics_text(row.values);
  const double seconds = row.train_seconds - since.train_seconds;
  const std::size_t steps = row.step - since.step;
  line += fmt::format("  {} {:.1f} s ({:.1f} ms/step)", epoch_end ? "epoch time" : "time", seconds,
                      steps ? seconds / double(steps) * 1e3 : 0.0);
  if (!row.values.empty()) line += fmt::format("  [evaluation {:.0f} s]", eval_seconds);
  return line;
}

// Checks the --load checkpoint's vocabulary file and that the data give the
// same vocabulary (else every id would mean another token).
void check_vocab(const app::Frame& frame, const data::Imdb& d) {
  const std::string& path = frame.flags().load;
  if (load_vocab(path, frame.loaded_meta()).tokens() != d.vocab.tokens())
    throw Error("the vocabulary built from the data (" + std::to_string(d.vocab.tokens().size()) +
                " tokens) differs from the one of the checkpoint " + path + " (" + vocab_path(path) +
                "): other data or another --vocab?");
}

RunResult evaluate_checkpoint(Model& model, const Settings& s, const app::Frame& frame,
                              const data::Imdb& d, std::FILE* log) {
  const std::string& path = frame.flags().load;
  if (s.eval == "none") throw app::UsageError("--eval-only with --eval none evaluates nothing");
  ckpt::load<float>(path, model.named_parameters(), nullptr);
  RunResult res;
  res.first_step = res.last_step = ckpt::at(frame.loaded_meta(), "/trainer/step", path).get<std::size_t>();
  double seconds = 0;
  const train::Metrics m = accuracies(model, s, d, &seconds);
  res.eval_seconds = seconds;
  res.train_acc = value_of(m, "train_acc");
  res.test_acc = value_of(m, "test_acc");
  if (log)
    fmt::print(log, "checkpoint {} at step {}:{}  [evaluation {:.0f} s]\n", path, res.first_step,
               metrics_text(m), seconds);
  return res;
}

// Lines "  epoch 1 batch 50/391  loss 0.6912" on stderr every 50 steps, for
// a log file (a terminal gets the Trainer's progress line instead).
std::function<void(const train::Batch&, double)> periodic_lines(std::size_t per_epoch) {
  auto sum = std::make_shared<std::pair<double, std::size_t>>(0.0, 0);
  return [sum, per_epoch](const train::Batch& b, double loss) {
    if (b.index == 0) *sum = {0.0, 0};
    sum->first += loss;
    ++sum->second;
    if ((b.index + 1) % 50 == 0 || b.index + 1 == per_epoch) {
      fmt::print(stderr, "  epoch {} batch {}/{}  loss {:.4f}\n", b.epoch + 1, b.index + 1,
                 per_epoch, sum->first / double(sum->second));
      std::fflush(stderr);
    }
  };
}

RunResult train_model(Model& model, const Settings& s, const app::Frame& frame, const data::Imdb& d,
                      std::FILE* log) {
  const app::TrainingFlags& f = frame.flags();
  Adam<float> adam(model.parameters(), AdamOptions(s.lr));
  data::EpochSampler sampler(d.train.size(), s.batch, f.seed);
  train::Options options = frame.trainer_options(sampler.batches_per_epoch());
  // The protocol's own line per evaluation (below) instead of the Trainer's;
  // so what the Trainer prints to its log is printed here too.
  options.log = nullptr;
  options.unit = "batches";
  // The checkpoint names its vocabulary by content; the file is written
  // with the first checkpoint (see the evaluation below).
  options.meta["vocab_sha256"] = data::sha256_hex(d.vocab.text());
  train::Trainer<float> trainer(model.tape, model.named_parameters(), adam, options, f.seed);
  RunResult res;
  res.batches_per_epoch = sampler.batches_per_epoch();
  if (!f.load.empty()) trainer.resume(f.load);
  // Under mpirun -np N each rank trains on its share of every batch; rank 0
  // alone logs and saves, and the evaluation is shared (docs/distributed.md).
  parallel::DataParallel<float> ddp(trainer, model.named_parameters(), adam);
  res.first_step = trainer.step();
  if (log)
    fmt::print(log, "training: Adam lr {:g}, batch {}{}, clip {:g}, steps {}..{} ({} per epoch), seed {}{}\n",
               s.lr, s.batch, ddp.size() > 1 ? fmt::format(" over {} processes", ddp.size()) : "", f.clip,
               res.first_step + 1, trainer.total_steps(), res.batches_per_epoch, f.seed,
               f.load.empty() ? "" : fmt::format(" (from {})", f.load));
  if (log && res.first_step >= trainer.total_steps())
    fmt::print(log, "nothing to train: the run is at step {} and ends at step {}\n", res.first_step,
               trainer.total_steps());

  double eval_seconds = 0;
  bool vocab_saved = false;
  train::Row previous{res.first_step, 0, 0, {}, 0};
  trainer.on_evaluation = [&](const train::Row& row) {
    if (log) {
      fmt::print(log, "{}\n", evaluation_line(row, previous, res.batches_per_epoch, eval_seconds));
      std::fflush(log);
    }
    previous = row;
  };
  if (!f.quiet && ddp.is_root() && !isatty(fileno(stderr)))
    trainer.on_step = periodic_lines(res.batches_per_epoch);
  trainer.fit(
      [&](const train::Batch& at) {
        const data::ImdbBatch b = data::imdb_batch(d.train, ddp.shard(sampler.at(at.epoch, at.index)));
        return ddp.loss(bce_with_logits(model.logits(b, /*training=*/true, &trainer.rng()), b.labels));
      },
      [&] {
        const train::Metrics m = accuracies(model, s, d, &eval_seconds);
        if (!m.empty()) res.eval_seconds = eval_seconds;
        // The Trainer saves the checkpoint right after this returns: the
        // vocabulary goes first, so a checkpoint on disk has its vocabulary.
        if (!f.save.empty() && ddp.is_root() && !vocab_saved) d.vocab.save(vocab_path(f.save));
        vocab_saved = true;
        return m;
      });
  res.last_step = trainer.step();
  if (log && ddp.size() > 1) fmt::print(log, "{}\n", ddp.summary());
  if (log && profiler::enabled())
    fmt::print(log, "op profile of the training steps ({} steps):\n{}", res.last_step - res.first_step,
               profiler::table());
  res.rows = trainer.history();
  frame.report().training(trainer);
  res.train_seconds = trainer.train_seconds();
  res.train_cpu_seconds = trainer.train_cpu_seconds();
  if (!res.rows.empty()) {
    res.train_acc = value_of(res.rows.back().values, "train_acc");
    res.test_acc = value_of(res.rows.back().values, "test_acc");
  }
  return res;
}

// A review as the model reads it: its last maxlen tokens, "<unk>" for a word
// outside the vocabulary.
std::string as_read(const data::Imdb& d, std::size_t index) {
  std::string text;
  const std::int32_t* row = d.test.ids.data() + index * d.test.maxlen;
  for (std::size_t t = 0; t < d.test.maxlen; ++t)
    if (row[t] != data::Vocab::kPad) text += (text.empty() ? "" : " ") + d.vocab.token(row[t]);
  return text;
}

// The report's own sections (--report): what the run is, the first review,
// the accuracies per epoch, a few test reviews with their probability.
void add_report(train::Report& r, Model& model, const Settings& s, const app::TrainingFlags& f,
                const data::Imdb& d, const RunResult& res) {
  r.describe(
      "## The task\n\nSentiment analysis: read a movie review from IMDB and say whether it is **positive** "
      "or **negative**. The homework of the lecture (docs/protocols.md section 4): the words of a review go "
      "through an embedding and an LSTM, one word per time step, and a linear layer on the last state gives "
      "the probability that the review is positive.");
  r.describe(fmt::format("## The model\n\nEmbedding of {} ids into {} dimensions, {} LSTM layer(s) of {} units"
                         "{}{}, a linear layer to one logit: {} parameters.\n\n",
                         d.vocab.size(), s.embed, s.layers, s.hidden, s.bidirectional ? ", both directions" : "",
                         s.mask ? ", the padding masked" : "", model.parameter_count()) +
             app::cell_equations("lstm") +
             "\n\nThe word $w_t$ enters as $x^t = E[w_t]$ (a row of the embedding), and the last state "
             "gives the probability of a positive review, trained with binary cross-entropy over a batch "
             "of $B$ reviews with labels $y_b \\in \\{0, 1\\}$:\n\n"
             "$$p_b = \\sigma(h_b^T W_o + b_o), \\qquad "
             "L = -\\frac{1}{B} \\sum_{b=1}^{B} \\big(y_b \\log p_b + (1 - y_b) \\log(1 - p_b)\\big)$$");
  r.describe("## Data and protocol\n\n" +
             train::markdown_table(
                 {"", ""},
                 {{"reviews", fmt::format("{} train, {} test (the even and the odd records of reviews.json)",
                                          d.train.size(), d.test.size())},
                  {"vocabulary", fmt::format("{} ids: the {} most frequent of the {} distinct training tokens, "
                                             "and 0 padding, 1 unknown",
                                             d.vocab.size(), d.vocab.tokens().size(), d.distinct_train_tokens)},
                  {"length", fmt::format("the last {} tokens of each review, shorter ones padded on the left", s.maxlen)},
                  {"optimizer", fmt::format("Adam, learning rate {:g}, batch {}, gradient norm clipped to {:g}",
                                            s.lr, s.batch, f.clip)},
                  {"schedule", fmt::format("steps {} to {} ({} per epoch), evaluation {}", res.first_step + 1,
                                           res.last_step, res.batches_per_epoch,
                                           f.eval_every ? fmt::format("every {} steps", f.eval_every)
                                                        : std::string("at each epoch end"))},
                  {"dropout", s.dropout > 0 ? fmt::format("{:g}", s.dropout) : "none"}}));
  r.text(fmt::format("## The first training review\n\nAs the homework asks, the first review of the training "
                     "split, as written (label {}: {}). The model reads only its last {} tokens.",
                     d.train.size() ? int(d.train.labels[0]) : -1,
                     d.train.size() && d.train.labels[0] > 0.5f ? "positive" : "negative", s.maxlen),
         d.first_train_text + "\n");
  std::vector<std::vector<std::string>> epochs;
  for (const train::Row& row : res.rows) {
    std::vector<std::string> line{std::to_string(row.step), fmt::format("{:.2f}", double(row.step) / double(res.batches_per_epoch)),
                                  fmt::format("{:.4f}", row.loss)};
    for (const char* name : {"train_acc", "test_acc"}) {
      const double v = value_of(row.values, name);
      line.push_back(v >= 0 ? fmt::format("{:.4f}", v) : "-");
    }
    epochs.push_back(std::move(line));
  }
  if (!epochs.empty())
    r.table("## Accuracy per epoch\n\nThe fraction of reviews classified right (probability above 0.5 for a "
            "positive one) on the whole training and test splits at each evaluation; the same values as the "
            "accuracy figure above. Train far above test is overfitting.",
            {"step", "epoch", "train loss", "train accuracy", "test accuracy"}, epochs);

  const std::size_t n = std::min<std::size_t>(5, d.test.size());
  std::vector<double> p;
  {
    auto no_grad = model.tape.no_grad();
    const data::ImdbBatch b = data::imdb_range(d.test, 0, n);
    const Var<float> logit = model.logits(b, false, nullptr);
    for (std::size_t i = 0; i < n; ++i) p.push_back(1.0 / (1.0 + std::exp(-double(logit.value().data()[i]))));
  }
  model.tape.clear();
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < n; ++i) {
    std::string text = as_read(d, i);
    if (text.size() > 300) text = "... " + text.substr(text.size() - 300);
    rows.push_back({std::to_string(i + 1), fmt::format("{:.4f}", p[i]), p[i] > 0.5 ? "positive" : "negative",
                    d.test.labels[i] > 0.5f ? "positive" : "negative", text});
  }
  r.table("## Some test reviews\n\nThe first test reviews as the model read them (lower case, punctuation "
          "dropped, `<unk>` for a word outside the vocabulary; at most their last 300 characters here), with "
          "the probability of a positive review the trained model gives.",
          {"review", "P(positive)", "predicted", "label", "text"}, rows);
}

}  // namespace

void add_flags(app::Frame& frame, Settings& s) {
  CLI::App& cli = frame.cli();
  cli.add_option("--layers", s.layers, "stacked LSTM layers (the protocol: 1, or 2)")
      ->check(app::finite_range(1, 64));
  cli.add_flag("--bidirectional", s.bidirectional,
               "run the LSTM both ways; the Linear reads both final states");
  cli.add_option("--hidden", s.hidden, "LSTM hidden units")->check(app::finite_range(1, 8192));
  cli.add_option("--embed", s.embed, "embedding size")->check(app::finite_range(1, 8192));
  cli.add_option("--vocab", s.vocab, "vocabulary tokens (ids 2..vocab+1; 0 padding, 1 unknown)")
      ->check(app::finite_range(1, 1e6));
  cli.add_option("--maxlen", s.maxlen, "tokens kept per review (the last ones, left-padded)")
      ->check(app::finite_range(1, 10000));
  cli.add_flag("--mask", s.mask,
               "mask the padded steps with each review's length (default: feed the padding as is)");
  cli.add_option("--dropout", s.dropout,
                 "dropout probability between LSTM layers and before the Linear (training only)")
      ->check(app::finite_range(0, 0.99));
  cli.add_option("--batch", s.batch, "reviews per training step")->check(app::finite_range(1, 25000));
  cli.add_option("--lr", s.lr, "Adam learning rate (betas 0.9/0.999, eps 1e-8)")
      ->check(app::finite_range(1e-12, 10));
  cli.add_option("--eval", s.eval,
                 "accuracies at each evaluation: both (whole train and test splits), test, or "
                 "none (timing runs: the loss only)")
      ->check(CLI::IsMember({"both", "test", "none"}));
  cli.add_option("--eval-batch", s.eval_batch, "reviews per evaluation chunk (memory vs speed)")
      ->check(app::finite_range(1, 25000));
  app::TrainingFlags d;
  d.epochs = 5;
  d.clip = 5.0;
  frame.add_training_flags(d);
  cli.add_option("--predict", s.predict,
                 "with --load: print the probability that this text is positive, train nothing "
                 "(repeatable; '-' reads one text per line from stdin)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->needs("--load");
  for (const char* free : {"--eval", "--eval-batch", "--predict"}) frame.free_on_resume(free);
}

Model::Model(const Settings& s, std::size_t vocab_rows, Rng& rng)
    : settings(s),
      embedding(tape, vocab_rows, s.embed, rng, data::Vocab::kPad),
      rnn(tape, rnn_options(s), rng),
      head(tape, s.hidden * (s.bidirectional ? 2 : 1), 1, rng) {
  register_module("embedding", embedding);
  register_module("rnn", rnn);
  register_module("head", head);
}

Var<float> Model::logits(const Tensor<std::int64_t>& ids, const std::vector<int>& lengths,
                         bool training, Rng* rng) {
  if (ids.dimension() != 2)
    throw Error("imdb_lstm: ids must be (time, batch), got " + shape_str(ids.shape()));
  const std::size_t steps = ids.shape()[0], batch = ids.shape()[1];
  Tensor<float> mask;
  if (settings.mask) {
    if (lengths.size() != batch)
      throw Error("imdb_lstm: " + std::to_string(lengths.size()) + " lengths for a batch of " +
                  std::to_string(batch));
    mask = sequence_mask<float>(lengths, steps, /*left_padded=*/true);
  }
  train(training);
  // Without a mask the padding runs through the LSTM as in the protocol, and
  // the final state is the one after the last step, where left padding puts
  // every review's last token. Every padded step reads the padding id's
  // embedding, so forward_left_padded computes it once per step, not per row.
  RecurrentOutput<float> out;
  if (settings.mask || lengths.size() != batch) {
    out = rnn.forward(embedding(ids), settings.mask ? &mask : nullptr, nullptr, rng);
  } else {
    const std::vector<std::size_t> real(lengths.begin(), lengths.end());
    // Straight from the ids: each real token's row gathered once, in the
    // packed order.
    if (projected_vocab_.defined() && !training && !tape.recording())
      out = rnn.forward_left_padded_projected(projected_vocab_, ids, real);
    else
      out = rnn.forward_left_padded(embedding.weight, ids, real, embedding.padding_id, rng);
  }
  Var<float> h = out.last();  // (B, D*H)
  if (training && settings.dropout > 0) {
    if (!rng) throw Error("imdb_lstm: training with dropout needs an Rng");
    h = dropout(h, float(settings.dropout), true, *rng);
  }
  return reshape(head(h), Shape{batch});
}

void Model::project_vocabulary() {
  if (settings.mask || settings.bidirectional) return;
  auto no_grad = tape.no_grad();
  // A leaf: it survives the tape.clear() after every evaluation chunk.
  projected_vocab_ = tape.constant(rnn.cell(0, 0).project(embedding.weight).value());
}

Var<float> Model::logits(const data::ImdbBatch& batch, bool training, Rng* rng) {
  return logits(batch.ids, batch.lengths, training, rng);
}

double accuracy(Model& model, const data::ImdbSplit& split, std::size_t chunk) {
  if (split.size() == 0) return 0;
  return double(count_correct(model, split, 0, split.size(), chunk)) / double(split.size());
}

std::vector<double> predict(Model& model, const data::Vocab& vocab,
                            const std::vector<std::string>& texts, std::size_t chunk) {
  const data::ImdbSplit s = data::encode_texts(texts, {}, vocab, model.settings.maxlen);
  std::vector<double> p;
  chunk = std::max<std::size_t>(chunk, 1);
  const ProjectedVocabulary projected(model);
  for (std::size_t begin = 0; begin < s.size(); begin += chunk) {
    const data::ImdbBatch b = data::imdb_range(s, begin, chunk);
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

std::filesystem::path reviews_file(const std::string& data) {
  const std::filesystem::path p(data);
  std::error_code ec;
  if (!data.empty() && std::filesystem::is_regular_file(p, ec)) return p;
  return data::data_files(data::imdb_package(), p).at(0);
}

data::Imdb load_data(const std::string& data, const Settings& s) {
  data::ImdbOptions o;
  o.vocab_tokens = s.vocab;
  o.maxlen = s.maxlen;
  return data::load_imdb(reviews_file(data), o);
}

std::string vocab_path(const std::string& checkpoint) { return checkpoint + ".vocab"; }

data::Vocab load_vocab(const std::string& path, const nlohmann::json& meta) {
  const std::string vp = vocab_path(path);
  const nlohmann::json& want = ckpt::at(meta, "/vocab_sha256", path);
  if (!want.is_string()) throw Error(path + ": checkpoint metadata 'vocab_sha256' is not a string");
  std::error_code ec;
  if (!std::filesystem::exists(vp, ec))
    throw Error(path + ": its vocabulary " + vp + " is missing (saved beside the checkpoint)");
  const std::string have = data::sha256_file(vp);
  if (have != want.get<std::string>())
    throw Error(vp + " is not the vocabulary saved with " + path + " (its sha256 is " + have +
                ", the checkpoint's vocabulary has " + want.get<std::string>() +
                "): the vocabulary belongs to another model");
  return data::Vocab::load(vp);
}

RunResult run(const Settings& s, const app::Frame& frame, const data::Imdb& d, std::FILE* log) {
  const app::TrainingFlags& f = frame.flags();
  if (d.train.size() == 0 || d.test.size() == 0)
    throw Error("imdb_lstm: the training or the test split is empty");
  if (s.batch > d.train.size())
    throw app::UsageError(fmt::format("--batch {} exceeds the {} training reviews", s.batch, d.train.size()));
  if (!f.load.empty()) {
    require_model_settings(frame.loaded_meta(), f.load);
    check_vocab(frame, d);
  }
  if (!parallel::is_root()) log = nullptr;  // under mpirun rank 0 alone logs
  Rng rng(f.seed);
  Model model(s, d.vocab.size(), rng);
  if (log)
    fmt::print(log,
               "model: Embedding({},{}) -> LSTM({},{},{} layer(s){}{}) -> {}Linear({},1); {} parameters\n",
               d.vocab.size(), s.embed, s.embed, s.hidden, s.layers, s.bidirectional ? ", bidirectional" : "",
               s.mask ? ", masked" : "", s.dropout > 0 ? fmt::format("Dropout({}) -> ", s.dropout) : "",
               s.hidden * (s.bidirectional ? 2 : 1), model.parameter_count());
  if (log) fmt::print(log, "{}", model.summary());
  RunResult res = f.eval_only ? evaluate_checkpoint(model, s, frame, d, log) : train_model(model, s, frame, d, log);
  if (frame.reporting()) add_report(frame.report(), model, s, f, d, res);
  frame.export_model(model, log);
  return res;
}

void predict_only(const Settings& s, const app::Frame& frame, std::FILE* out) {
  const std::string& path = frame.flags().load;
  for (const char* other : {"--eval-only", "--save", "--metrics"})  // (not CLI11's excludes: it
    if (frame.given(other))                                          // would mark shared flags' help)
      throw app::UsageError(std::string("--predict classifies only: it takes no ") + other);
  require_model_settings(frame.loaded_meta(), path);
  const data::Vocab vocab = load_vocab(path, frame.loaded_meta());
  Rng rng(frame.flags().seed);
  Model model(s, vocab.size(), rng);
  ckpt::load<float>(path, model.named_parameters(), nullptr);
  std::vector<std::string> texts;
  for (const std::string& t : s.predict) {
    if (t != "-") {
      texts.push_back(t);
      continue;
    }
    for (std::string line; std::getline(std::cin, line);)
      if (!line.empty()) texts.push_back(line);
  }
  const std::vector<double> p = predict(model, vocab, texts, s.eval_batch);
  for (std::size_t i = 0; i < texts.size(); ++i)
    fmt::print(out, "{:.4f}  {}  {}\n", p[i], p[i] > 0.5 ? "positive" : "negative", shorten(texts[i], 70));
  frame.export_model(model, out);
}

void describe_data(const data::Imdb& d, const Settings& s, std::FILE* out) {
  fmt::print(out, "first training review (label {}):\n{}\n", d.train.size() ? int(d.train.labels[0]) : -1,
             d.first_train_text);
  if (d.train.size()) {
    std::string ids;
    const std::int32_t* row = d.train.ids.data();
    for (std::size_t t = s.maxlen >= 12 ? s.maxlen - 12 : 0; t < s.maxlen; ++t)
      ids += fmt::format("{}{}", ids.empty() ? "" : " ", row[t]);
    fmt::print(out, "its last ids: {}\n", ids);
  }
  fmt::print(out, "{} train / {} test reviews; {} distinct train tokens; vocabulary of {} ids\n",
             d.train.size(), d.test.size(), d.distinct_train_tokens, d.vocab.size());
  if (d.vocab.tokens().size() < s.vocab)  // small data: one row per token seen
    fmt::print(out, "note: the training split has only {} distinct tokens (--vocab {})\n",
               d.vocab.tokens().size(), s.vocab);
}

std::string result_line(const Settings& s, const app::Frame& frame, const RunResult& r) {
  const app::TrainingFlags& f = frame.flags();
  const std::size_t steps = r.last_step - r.first_step, per_epoch = std::max<std::size_t>(r.batches_per_epoch, 1);
  std::string line = fmt::format(
      "RESULT name={} impl=tapegrad layers={} epochs={} steps={} batch={} train_seconds={:.6g} "
      "ms_per_step={:.6g} train_cpu_seconds={:.6g}",
      s.layers == 1 ? "imdb_lstm" : fmt::format("imdb_lstm{}", s.layers), s.layers,
      (r.last_step + per_epoch - 1) / per_epoch, steps, s.batch, r.train_seconds,
      steps ? r.train_seconds / double(steps) * 1e3 : 0.0, r.train_cpu_seconds);
  // Whole epochs only, as the twin (which reports it without --max-batches).
  if (steps && r.first_step % per_epoch == 0 && r.last_step % per_epoch == 0)
    line += fmt::format(" epoch_seconds={:.6g}", r.train_seconds / double(steps / per_epoch));
  if (!r.rows.empty()) line += fmt::format(" train_loss={:.6g}", r.rows.back().loss);
  if (r.train_acc >= 0) line += fmt::format(" train_acc={:.6g}", r.train_acc);
  if (r.test_acc >= 0) line += fmt::format(" test_acc={:.6g}", r.test_acc);
  if (r.eval_seconds >= 0) line += fmt::format(" eval_seconds={:.6g}", r.eval_seconds);
  line += fmt::format(" peak_mib={:.6g} threads={} seed={}", app::peak_mib(), f.threads, f.seed);
  if (s.mask || s.bidirectional || s.dropout > 0)
    line += fmt::format(" mask={} bidirectional={} dropout={}", int(s.mask), int(s.bidirectional), s.dropout);
  return line;
}

}  // namespace tg::imdb
