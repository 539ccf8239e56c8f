// imdb_lstm: the IMDB homework (docs/protocols.md section 4). Trains an LSTM
// sentiment classifier on 25,000 reviews, reports per-epoch loss, train and
// test accuracy and time, saves/loads checkpoints, and classifies new text.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "apps/common/cli.hpp"
#include "apps/common/report.hpp"
#include "apps/imdb_lstm/imdb_app.hpp"
#include "backend/blas.hpp"

namespace {

using tg::imdb::Config;

double peak_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // Linux: KiB
}

// Every --predict value (the parser keeps only the last one of a repeated
// option); "-" reads one text per line from stdin.
std::vector<std::string> predict_texts(int argc, char** argv) {
  std::vector<std::string> texts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    if (a == "--predict" && i + 1 < argc) v = argv[++i];
    else if (a.rfind("--predict=", 0) == 0) v = a.substr(10);
    else continue;
    if (v == "-") {
      for (std::string line; std::getline(std::cin, line);)
        if (!line.empty()) texts.push_back(line);
    } else {
      texts.push_back(v);
    }
  }
  return texts;
}

std::string shorten(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

int run(int argc, char** argv) {
  Config cfg;
  std::string data, save, load, metrics, predict, eval = "auto";
  int threads = 1;
  bool mask = false, bidir = false;
  std::size_t epochs = cfg.epochs;

  tg::app::Cli cli("imdb_lstm",
                   "IMDB sentiment with an LSTM (docs/protocols.md section 4): Embedding -> LSTM ->\n"
                   "Linear on the last time step -> binary cross-entropy; Adam, gradient\n"
                   "clipping. Prints the first training review, then per epoch the train\n"
                   "loss, train and test accuracy and the epoch's training time.");
  cli.option("--layers", &cfg.layers, "LSTM layers (1 or 2 in the protocol)");
  cli.flag("--bidirectional", &bidir, "run the LSTM both ways; the Linear reads both final states");
  cli.option("--hidden", &cfg.hidden, "LSTM hidden units");
  cli.option("--embed", &cfg.embed, "embedding size");
  cli.option("--vocab", &cfg.vocab, "vocabulary tokens (ids 2..vocab+1; 0 pad, 1 unknown)");
  cli.option("--maxlen", &cfg.maxlen, "tokens kept per review (the last ones, left-padded)");
  cli.flag("--mask", &mask,
           "mask the padded steps with each review's length (default: feed the padding as is)");
  cli.option("--dropout", &cfg.dropout,
             "dropout probability between LSTM layers and before the Linear (training only)");
  cli.option("--epochs", &epochs, "training epochs (0 with --load: evaluate only)");
  cli.option("--batch", &cfg.batch, "batch size");
  cli.option("--lr", &cfg.lr, "Adam learning rate");
  cli.option("--clip", &cfg.clip, "clip gradients to this global L2 norm (0: off)");
  cli.option("--seed", &cfg.seed, "seed of the initial weights, the shuffling and dropout");
  cli.option("--threads", &threads, "BLAS threads");
  cli.option("--data", &data,
             "folder holding reviews.json (checked against the package), or a reviews .json "
             "file read as is (default: the cache, $TAPEGRAD_DATA/imdb or ~/.cache/tapegrad/imdb)");
  cli.option("--save", &save,
             "checkpoint written after every epoch (model, Adam state, settings); the "
             "vocabulary goes to PATH.vocab");
  cli.option("--load", &load,
             "start from this checkpoint (its settings rebuild the model); with --predict "
             "only classify");
  cli.option("--metrics", &metrics,
             "CSV with one row per epoch: epoch,train_loss,train_acc,test_acc,epoch_seconds");
  cli.option("--max-batches", &cfg.max_batches,
             "train only the first N batches of each epoch (quick timing; 0: all)");
  cli.option("--eval", &eval,
             "accuracies after each epoch: auto (unless --max-batches), yes or no");
  cli.option("--eval-batch", &cfg.eval_batch, "reviews per evaluation chunk");
  cli.option("--predict", &predict,
             "with --load: print the probability that this text is positive (repeatable; "
             "'-' reads one text per line from stdin)");
  cli.epilog(
      "examples:\n"
      "  imdb_lstm                                   # the protocol, 5 epochs\n"
      "  imdb_lstm --layers 2 --save /tmp/imdb.st --metrics /tmp/imdb.csv\n"
      "  imdb_lstm --load /tmp/imdb.st --predict \"a wonderful, moving film\"\n"
      "  imdb_lstm --max-batches 50 --epochs 1      # a quick timing\n"
      "exit status: 0 success, 1 failure while running (data, checkpoint), 2 usage error");
  cli.parse(argc, argv);
  cfg.mask = mask;
  cfg.bidirectional = bidir;
  cfg.epochs = epochs;

  auto usage = [](const std::string& m) {
    fmt::print(stderr, "imdb_lstm: {} (try --help)\n", m);
    return tg::app::kExitUsage;
  };
  if (cfg.batch == 0) return usage("--batch must be at least 1");
  if (cfg.layers == 0 || cfg.hidden == 0 || cfg.embed == 0 || cfg.vocab == 0 || cfg.maxlen == 0)
    return usage("--layers, --hidden, --embed, --vocab and --maxlen must be at least 1");
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) return usage("--dropout must be in [0, 1)");
  if (!(cfg.lr > 0)) return usage("--lr must be positive");
  if (eval != "auto" && eval != "yes" && eval != "no") return usage("--eval takes auto, yes or no");
  const std::vector<std::string> texts = predict_texts(argc, argv);
  if (cli.given("--predict") && load.empty()) return usage("--predict needs --load CHECKPOINT");
  if (load.empty() && cfg.epochs == 0) return usage("--epochs 0 needs --load");
  tg::app::set_threads(threads);

  std::unique_ptr<tg::imdb::Model> model;
  tg::data::Vocab saved_vocab;
  std::size_t epochs_before = 0;
  if (!load.empty()) {
    tg::imdb::Loaded l = tg::imdb::load_checkpoint(load);
    std::vector<std::string> given;
    for (const char* n : {"vocab", "maxlen", "embed", "hidden", "layers", "bidirectional", "mask",
                          "dropout"})
      if (cli.given(std::string("--") + n)) given.push_back(n);
    tg::imdb::check_settings(cfg, l.model->config, given, load);
    model = std::move(l.model);
    saved_vocab = std::move(l.vocab);
    epochs_before = l.epochs_done;
    if (cli.given("--predict")) {
      const std::vector<double> p = tg::imdb::predict(*model, saved_vocab, texts);
      for (std::size_t i = 0; i < texts.size(); ++i)
        fmt::print("{:.4f}  {}  {}\n", p[i], p[i] > 0.5 ? "positive" : "negative",
                   shorten(texts[i], 70));
      return 0;
    }
    // Resuming: the model settings come from the checkpoint, the training
    // settings from the command line.
    const Config& k = model->config;
    cfg.vocab = k.vocab;
    cfg.maxlen = k.maxlen;
    cfg.embed = k.embed;
    cfg.hidden = k.hidden;
    cfg.layers = k.layers;
    cfg.bidirectional = k.bidirectional;
    cfg.mask = k.mask;
    cfg.dropout = k.dropout;
    model->config = cfg;
  }

  const tg::data::Imdb d = tg::imdb::load_data(data, cfg);
  if (!saved_vocab.tokens().empty() && saved_vocab.tokens() != d.vocab.tokens())
    throw tg::Error(load + ": its vocabulary differs from the one built from the data");
  if (d.vocab.tokens().size() != cfg.vocab) {
    // Fewer distinct tokens than asked for (small data): one row per id.
    fmt::print("note: the training split has only {} distinct tokens; vocabulary of {}\n",
               d.vocab.tokens().size(), d.vocab.tokens().size());
    cfg.vocab = d.vocab.tokens().size();
  }
  fmt::print("first training review (label {}):\n{}\n", d.train.size() ? int(d.train.labels[0]) : -1,
             d.first_train_text);
  if (d.train.size()) {
    std::string ids;
    const std::int32_t* row = d.train.ids.data();
    for (std::size_t t = cfg.maxlen >= 12 ? cfg.maxlen - 12 : 0; t < cfg.maxlen; ++t)
      ids += fmt::format("{}{}", ids.empty() ? "" : " ", row[t]);
    fmt::print("its last ids: {}\n", ids);
  }
  fmt::print("{} train / {} test reviews; {} distinct train tokens; vocabulary of {} ids\n",
             d.train.size(), d.test.size(), d.distinct_train_tokens, d.vocab.size());
  fmt::print("float products on {}\n", tg::blas::float_gemm_backend());

  if (!model) {
    tg::Rng rng(cfg.seed);
    model = std::make_unique<tg::imdb::Model>(cfg, rng);
  }
  tg::imdb::Trainer trainer(*model, d.train);
  trainer.set_epochs_done(epochs_before);
  if (!load.empty()) tg::imdb::load_optimizer(load, *model, trainer.optimizer());
  const bool do_eval = eval == "yes" || (eval == "auto" && cfg.max_batches == 0);
  fmt::print("model: Embedding({},{}) -> LSTM({},{},{} layer(s){}{}) -> {}Linear({},1); "
             "{} parameters; {} steps per epoch\n",
             cfg.vocab + 2, cfg.embed, cfg.embed, cfg.hidden, cfg.layers,
             cfg.bidirectional ? ", bidirectional" : "", cfg.mask ? ", masked" : "",
             cfg.dropout > 0 ? fmt::format("Dropout({}) -> ", cfg.dropout) : "",
             cfg.hidden * (cfg.bidirectional ? 2 : 1), model->parameter_count(),
             trainer.steps_per_epoch());
  std::fflush(stdout);

  if (cfg.epochs == 0) {  // --load --epochs 0: evaluate the checkpoint
    const double tr = tg::imdb::accuracy(*model, d.train), te = tg::imdb::accuracy(*model, d.test);
    fmt::print("checkpoint after {} epoch(s): train acc {:.4f}  test acc {:.4f}\n", epochs_before,
               tr, te);
    return 0;
  }

  tg::app::MetricsCsv csv;
  if (!metrics.empty())
    csv = tg::app::MetricsCsv(metrics, {"epoch", "train_loss", "train_acc", "test_acc", "epoch_seconds"});
  double seconds = 0, cpu = 0, eval_seconds = 0;
  std::size_t steps = 0;
  tg::imdb::EpochResult last;
  for (std::size_t e = 0; e < cfg.epochs; ++e) {
    tg::app::Progress progress(trainer.steps_per_epoch(), "batches");
    const std::size_t epoch_no = trainer.epochs_done() + 1;
    tg::imdb::EpochResult r = trainer.train_epoch([&](std::size_t done, std::size_t total, double loss) {
      progress.update(done, fmt::format("loss {:.4f}", loss));
      if (!progress.enabled() && (done % 50 == 0 || done == total)) {
        fmt::print(stderr, "  epoch {} batch {}/{}  loss {:.4f}\n", epoch_no, done, total, loss);
        std::fflush(stderr);
      }
    });
    progress.finish();
    seconds += r.seconds;
    cpu += r.cpu_seconds;
    steps += r.steps;
    std::string msg = fmt::format("epoch {}: train loss {:.4f}", r.epoch, r.train_loss);
    if (do_eval) {
      const auto t0 = std::chrono::steady_clock::now();
      r.train_acc = tg::imdb::accuracy(*model, d.train);
      r.test_acc = tg::imdb::accuracy(*model, d.test);
      eval_seconds = tg::app::seconds_since(t0);
      msg += fmt::format("  train acc {:.4f}  test acc {:.4f}", r.train_acc, r.test_acc);
    }
    msg += fmt::format("  epoch time {:.1f} s ({:.1f} ms/step)", r.seconds,
                       r.seconds / std::max<std::size_t>(r.steps, 1) * 1e3);
    if (do_eval) msg += fmt::format("  [evaluation {:.0f} s]", eval_seconds);
    fmt::print("{}\n", msg);
    std::fflush(stdout);
    csv.row({double(r.epoch), r.train_loss, do_eval ? r.train_acc : NAN, do_eval ? r.test_acc : NAN,
             r.seconds});
    if (!save.empty())
      tg::imdb::save_checkpoint(save, *model, &trainer.optimizer(), d.vocab, trainer.epochs_done());
    last = r;
  }
  if (!save.empty()) fmt::print("saved {} (vocabulary: {})\n", save, tg::imdb::vocab_path(save));

  std::string result = fmt::format(
      "RESULT name={} impl=tapegrad layers={} epochs={} steps={} max_batches={} batch={} "
      "train_seconds={:.6g} ms_per_step={:.6g} train_cpu_seconds={:.6g}",
      cfg.layers == 1 ? "imdb_lstm" : fmt::format("imdb_lstm{}", cfg.layers), cfg.layers,
      cfg.epochs, steps, cfg.max_batches, cfg.batch, seconds, seconds / std::max<std::size_t>(steps, 1) * 1e3,
      cpu);
  if (cfg.max_batches == 0) result += fmt::format(" epoch_seconds={:.6g}", seconds / cfg.epochs);
  result += fmt::format(" train_loss={:.6g}", last.train_loss);
  if (do_eval) result += fmt::format(" train_acc={:.6g} test_acc={:.6g}", last.train_acc, last.test_acc);
  result += fmt::format(" peak_mib={:.6g} threads={} seed={}", peak_mib(), threads, cfg.seed);
  if (cfg.mask || cfg.bidirectional || cfg.dropout > 0)
    result += fmt::format(" mask={} bidirectional={} dropout={}", int(cfg.mask),
                          int(cfg.bidirectional), cfg.dropout);
  fmt::print("{}\n", result);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const tg::Error& e) {
    fmt::print(stderr, "imdb_lstm: {}\n", e.what());
  } catch (const std::exception& e) {
    fmt::print(stderr, "imdb_lstm: error: {}\n", e.what());
  }
  return tg::app::kExitFailure;
}
