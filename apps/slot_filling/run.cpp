// The command line of slot_filling: options, per-data defaults, the printed
// report. The model and training live in slot_app.cpp.
#include <cstdio>
#include <istream>
#include <ostream>

#include <fmt/core.h>

#include "apps/common/cli.hpp"
#include "apps/common/report.hpp"
#include "apps/slot_filling/slot_app.hpp"
#include "datasets/slots/ticket_corpus.hpp"

namespace tg::slotapp {
namespace {

// Options whose default depends on the data: the first value is used with
// --data (tuned on ATIS), the second on the built-in corpus.
struct PerData {
  std::string name, help, text;  // text: what was given, "" for the default
  double with_data, built_in;
  bool integer;
};

const char* kSummary =
    "Slot filling with a recurrent tagger (the lecture's ticket-booking task):\n"
    "every word of a sentence gets a BIO slot tag, e.g. in \"I would like to\n"
    "arrive Taipei on November 2nd\" Taipei is the destination and November 2nd\n"
    "the time of arrival. Embedding -> (bi)LSTM/GRU/RNN over the masked batch\n"
    "-> a linear layer per token; cross-entropy over tags, padding weighted 0;\n"
    "Adam; the parameters of the best valid F1 are kept. Scores: conlleval\n"
    "chunk precision / recall / F1 and token accuracy on the test split.";

const char* kEpilog =
    "Defaults that depend on the data are shown as 'A with --data, B on the\n"
    "built-in corpus': the built-in corpus (no --data) is small and regular and\n"
    "is learnt in a few epochs; the --data defaults are tuned on ATIS.\n"
    "\n"
    "Examples:\n"
    "  slot_filling                                  train on the built-in corpus, tag the lecture's sentences\n"
    "  slot_filling --data atis --save atis.ckpt --metrics atis.csv\n"
    "  slot_filling --load atis.ckpt --tag \"show me flights from boston to denver on monday\"\n"
    "  slot_filling --load atis.ckpt --tag - < sentences.txt   (one sentence a line)\n"
    "  slot_filling --load atis.ckpt --data atis   (score the test split)\n"
    "\n"
    "--save PATH writes PATH (safetensors: parameters and model shape), PATH.vocab\n"
    "and PATH.tags; --load PATH reads all three.\n"
    "Exit codes: 0 success, 1 failure while running (bad data file, unreadable\n"
    "checkpoint), 2 usage error.";

std::string fmt_value(double v, bool integer) {
  return integer ? fmt::format("{}", static_cast<long long>(v)) : fmt::format("{:g}", v);
}

// "--tag" with nothing after it (or another option) means "--tag -".
std::vector<std::string> expand_bare_tag(std::vector<std::string> args) {
  for (std::size_t i = 1; i < args.size(); ++i)
    if (args[i] == "--tag" && (i + 1 == args.size() || args[i + 1].rfind("--", 0) == 0))
      args[i] = "--tag=-";
  return args;
}

void print_scores(std::ostream& out, const std::string& what, const slots::ChunkScorer& s) {
  const auto& t = s.total();
  out << fmt::format("{}: precision {:.2f}  recall {:.2f}  F1 {:.2f}  token accuracy {:.2f}\n", what,
                     100 * t.precision(), 100 * t.recall(), 100 * t.f1(), 100 * t.accuracy());
  out << "  (conlleval) " << s.summary() << "\n";
}

void tag_and_print(SlotModel& model, const std::string& sentence, std::ostream& out) {
  const auto words = slots::tokenize(sentence);
  if (words.empty()) return;
  out << "> " << sentence << "\n" << tagging_report(words, tag_words(model, words));
}

std::string data_summary(const std::string& name, const slots::SlotData& d) {
  return fmt::format("data: {}: train {}, valid {}, test {} sentences", name, d.train.size(), d.valid.size(),
                     d.test.size());
}

int run_parsed(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
  std::string data_dir, cell = "lstm", save_path, load_path, metrics_path, tag_text;
  bool bidir_flag = false, unidir_flag = false, random_batches = false;
  std::size_t layers = 1, patience = 0, seed = 1;
  int threads = 1;
  double clip = 5.0;
  std::vector<PerData> per = {
      {"--embed", "word embedding size", "", 100, 32, true},
      {"--hidden", "hidden units per direction", "", 160, 64, true},
      {"--epochs", "training epochs (the best on valid is kept)", "", 30, 6, true},
      {"--batch", "sentences per training batch", "", 16, 16, true},
      {"--lr", "Adam learning rate", "", 2e-3, 5e-3, false},
      {"--dropout", "dropout on embeddings, recurrent outputs and between layers", "", 0.5, 0.2, false},
      {"--word-dropout", "probability of replacing a training word by <unk>", "", 0.05, 0.05, false},
  };

  app::Cli cli("slot_filling", kSummary);
  cli.option("--data", &data_dir,
             "folder with train/ valid/ test/ {seq.in,seq.out,label} (ATIS, SNIPS); "
             "default: the built-in ticket-booking corpus");
  cli.option("--cell", &cell, "recurrent cell: rnn, lstm or gru");
  cli.flag("--bidirectional", &bidir_flag, "read the sentence both ways (the default)");
  cli.flag("--unidirectional", &unidir_flag, "left to right only: a tag sees only the words before it");
  cli.option("--layers", &layers, "stacked recurrent layers");
  for (PerData& p : per)
    cli.option(p.name, &p.text,
               p.help + " (default " + fmt_value(p.with_data, p.integer) +
                   (p.with_data == p.built_in
                        ? ")"
                        : " with --data, " + fmt_value(p.built_in, p.integer) + " on the built-in corpus)"));
  cli.flag("--random-batches", &random_batches,
           "batches of random sentences (default: of similar lengths, which pads less)");
  cli.option("--clip", &clip, "clip the gradients' global norm to this (0: no clipping)");
  cli.option("--patience", &patience, "stop after this many epochs without a better valid F1 (0: never)");
  cli.option("--seed", &seed, "seed of initialisation, shuffling and dropout");
  cli.option("--threads", &threads, "BLAS threads");
  cli.option("--save", &save_path, "write the best model to PATH (+ PATH.vocab, PATH.tags)");
  cli.option("--load", &load_path, "load a model saved with --save instead of training");
  cli.option("--metrics", &metrics_path, "CSV of epoch, loss, valid_f1, epoch_seconds");
  cli.option("--tag", &tag_text,
             "tag this sentence after training or --load; '-' or nothing: one sentence a line from stdin");
  cli.epilog(kEpilog);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  cli.parse(static_cast<int>(argv.size()), argv.data());

  auto usage = [&](const std::string& msg) {
    err << "slot_filling: " << msg << " (try --help)\n";
    return app::kExitUsage;
  };
  if (bidir_flag && unidir_flag) return usage("--bidirectional and --unidirectional exclude each other");
  if (cell != "rnn" && cell != "lstm" && cell != "gru") return usage("--cell: '" + cell + "' is not rnn, lstm or gru");
  if (layers == 0) return usage("--layers: must be at least 1");
  if (threads < 1) return usage("--threads: must be at least 1");
  const bool with_data = !data_dir.empty();
  std::map<std::string, double> v;
  for (const PerData& p : per) {
    double x = with_data ? p.with_data : p.built_in;
    if (!p.text.empty()) {
      std::size_t used = 0;
      try {
        x = std::stod(p.text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != p.text.size() || (p.integer && (x != static_cast<long long>(x) || x < 1)) || x < 0)
        return usage(p.name + ": '" + p.text + "' is not a valid " + (p.integer ? "positive integer" : "number"));
    }
    v[p.name] = x;
  }
  if (v["--dropout"] >= 1) return usage("--dropout: must be below 1");
  if (v["--word-dropout"] >= 1) return usage("--word-dropout: must be below 1");
  if (!load_path.empty() && tag_text.empty() && !with_data)
    return usage("--load needs --tag (sentences to tag) or --data (a test split to score)");

  app::set_threads(threads);

  auto tag_requested = [&](SlotModel& model) {
    if (tag_text.empty()) return;
    if (tag_text != "-") {
      tag_and_print(model, tag_text, out);
      return;
    }
    std::string line;
    while (std::getline(in, line)) {
      tag_and_print(model, line, out);
      out.flush();
    }
  };

  if (!load_path.empty()) {
    SlotModel model = load(load_path);
    const ModelConfig& c = model.tagger->config;
    out << fmt::format("loaded {}: {} {}, {} layer(s), embed {}, hidden {}; {} words, {} tags\n", load_path,
                       c.bidirectional ? "bidirectional" : "unidirectional", c.cell, c.layers, c.embed,
                       c.hidden, c.vocab_size, c.tag_count);
    if (with_data) {
      const slots::SlotData data = slots::read_folder(data_dir);
      out << data_summary(data_dir, data) << "\n";
      const auto w = slots::encode(data.test, model.vocab, model.tags).warning("test");
      if (!w.empty()) err << w << "\n";
      print_scores(out, "test", evaluate(model, data.test));
    }
    tag_requested(model);
    return 0;
  }

  const slots::SlotData data = with_data ? slots::read_folder(data_dir) : slots::make_ticket_corpus();
  TrainConfig cfg;
  cfg.model.embed = static_cast<std::size_t>(v["--embed"]);
  cfg.model.hidden = static_cast<std::size_t>(v["--hidden"]);
  cfg.model.layers = layers;
  cfg.model.cell = cell;
  cfg.model.bidirectional = !unidir_flag;
  cfg.model.dropout = v["--dropout"];
  cfg.epochs = static_cast<std::size_t>(v["--epochs"]);
  cfg.batch = static_cast<std::size_t>(v["--batch"]);
  cfg.lr = v["--lr"];
  cfg.word_dropout = v["--word-dropout"];
  cfg.clip = clip;
  cfg.patience = patience;
  cfg.buckets = !random_batches;
  cfg.seed = seed;

  SlotModel model = make_model(data, cfg.model, seed);
  out << data_summary(with_data ? data_dir : "built-in ticket-booking corpus", data) << "; vocabulary "
      << model.vocab.size() << " words, " << model.tags.size() << " tags\n";
  for (const auto& [name, split] : {std::pair{"valid", &data.valid}, std::pair{"test", &data.test}}) {
    const auto w = slots::encode(*split, model.vocab, model.tags).warning(name);
    if (!w.empty()) err << w << "\n";
  }
  const ModelConfig& mc = model.tagger->config;
  out << fmt::format(
      "model: embed {} -> {} {} x{} layer(s), hidden {} -> linear {} tags; {} parameters\n"
      "train: {} epochs, batch {} ({}), Adam lr {:g}, dropout {:g}, word dropout {:g}, clip {:g}, seed {}, "
      "threads {}\n",
      mc.embed, mc.bidirectional ? "bidirectional" : "unidirectional", mc.cell, mc.layers, mc.hidden,
      mc.tag_count, model.tagger->parameter_count(), cfg.epochs, cfg.batch,
      cfg.buckets ? "length buckets" : "random", cfg.lr, mc.dropout,
      cfg.word_dropout, cfg.clip, cfg.seed, threads);
  out.flush();

  app::MetricsCsv csv;
  if (!metrics_path.empty()) csv = app::MetricsCsv(metrics_path, {"epoch", "loss", "valid_f1", "epoch_seconds"});
  std::unique_ptr<app::Progress> progress;
  const auto on_step = [&](std::size_t done, std::size_t total, double loss) {
    if (!progress) progress = std::make_unique<app::Progress>(total, "steps");
    progress->update(done, fmt::format("loss {:.4f}", loss));
    if (done == total) {
      progress->finish();
      progress.reset();
    }
  };
  double train_seconds = 0, train_cpu = 0;
  const auto on_epoch = [&](const EpochReport& r) {
    train_seconds += r.seconds;
    train_cpu += r.cpu_seconds;
    out << fmt::format("epoch {:>3}/{}  loss {:.4f}  valid F1 {:6.2f}{}  {:.1f} s (cpu {:.1f} s)\n", r.epoch,
                       cfg.epochs, r.loss, 100 * r.valid_f1, r.best ? " *" : "  ", r.seconds, r.cpu_seconds);
    out.flush();
    csv.row({double(r.epoch), r.loss, r.valid_f1, r.seconds});
  };
  const TrainResult result = train(model, data, cfg, on_step, on_epoch);
  const std::size_t ran = result.epochs.size();
  out << fmt::format(
      "best valid F1 {:.2f} at epoch {} (its parameters are kept); training {:.2f} s per epoch (cpu {:.2f} s)\n",
      100 * result.best_valid_f1, result.best_epoch, ran ? train_seconds / ran : 0.0, ran ? train_cpu / ran : 0.0);
  print_scores(out, "test", evaluate(model, data.test));
  if (!save_path.empty()) {
    save(model, save_path);
    out << "saved " << save_path << " (+ .vocab, .tags)\n";
  }
  if (!tag_text.empty()) {
    tag_requested(model);
  } else if (!with_data) {
    out << "\nthe lecture's sentences (never seen in training):\n";
    tag_and_print(model, "I would like to arrive Taipei on November 2nd", out);
    tag_and_print(model, "leave Taipei on November 2nd", out);
  }
  return 0;
}

}  // namespace

int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
  try {
    return run_parsed(expand_bare_tag(args), in, out, err);
  } catch (const Error& e) {
    out.flush();
    err << "slot_filling: " << e.what() << "\n";
  } catch (const std::exception& e) {
    out.flush();
    err << "slot_filling: " << e.what() << "\n";
  }
  return app::kExitFailure;
}

}  // namespace tg::slotapp
