// slot_filling's flags: its own settings, the shared training flags with its
// protocol's defaults, and the defaults that depend on the data.
#include <fmt/core.h>

#include "apps/common/schedule.hpp"
#include "apps/slot_filling/slot_app.hpp"

namespace tg::slotapp {
namespace {

// The defaults that depend on the data: with --data (tuned on ATIS), and on
// the small, regular built-in corpus.
struct DataDefaults {
  std::size_t embed, hidden, epochs;
  double lr, dropout;
};
constexpr DataDefaults kWithData{100, 160, 50, 2e-3, 0.5}, kBuiltIn{32, 64, 6, 5e-3, 0.2};

template <class V>
void add_per_data(CLI::App& cli, const char* name, V& value, const std::string& help, V with_data, V built_in,
                  const CLI::Validator& check) {
  cli.add_option(
         name, value,
         fmt::format("{} (default {} with --data, {} on the built-in corpus)", help, with_data, built_in))
      ->check(check)
      ->default_str("");
}

// A per-data option neither given nor restored from --load takes the
// default of the data, recorded as the option's default so that the
// checkpoint's settings hold it.
template <class V>
void resolve(app::Frame& frame, const char* name, V& value, V with_data, V built_in, bool with) {
  CLI::Option* opt = frame.cli().get_option(name);
  if (opt->count() > 0) return;
  value = with ? with_data : built_in;
  opt->default_str(fmt::format("{}", value));
}

}  // namespace

ModelConfig Settings::model(std::size_t vocab_size, std::size_t tag_count) const {
  ModelConfig c;
  c.vocab_size = vocab_size;
  c.tag_count = tag_count;
  c.embed = embed;
  c.hidden = hidden;
  c.layers = layers;
  c.cell = cell;
  c.bidirectional = bidirectional;
  c.dropout = dropout;
  c.crf = crf;
  return c;
}

std::size_t default_epochs(bool with_data) { return with_data ? kWithData.epochs : kBuiltIn.epochs; }

void add_flags(app::Frame& frame, Settings& s) {
  CLI::App& cli = frame.cli();
  cli.add_option("--cell", s.cell, "recurrent cell: rnn (Elman, tanh), lstm or gru")
      ->check(CLI::IsMember({"rnn", "lstm", "gru"}));
  // A boolean is a bare flag in every app; one that is on by default is
  // turned off as --flag=false (also =0, =no, =off).
  cli.add_flag("--bidirectional", s.bidirectional,
               "read each sentence both ways (a tag sees the words after it too); on by default, "
               "--bidirectional=false: left to right only (a tag sees only the words before it)")
      ->default_str("true");  // what the checkpoint records when the flag is not given
  cli.add_option("--layers", s.layers, "stacked recurrent layers")->check(app::finite_range(1, 16));
  add_per_data(cli, "--embed", s.embed, "word embedding size", kWithData.embed, kBuiltIn.embed,
               app::finite_range(1, 4096));
  add_per_data(cli, "--hidden", s.hidden, "hidden units per direction", kWithData.hidden, kBuiltIn.hidden,
               app::finite_range(1, 4096));
  cli.add_option("--batch", s.batch, "sentences per training step")->check(app::finite_range(1, 100000));
  add_per_data(cli, "--lr", s.lr, "Adam learning rate", kWithData.lr, kBuiltIn.lr,
               app::finite_range(1e-12, 10));
  app::add_schedule_flags(cli, s.schedule, s.min_lr);
  add_per_data(cli, "--dropout", s.dropout, "dropout on embeddings, recurrent outputs and between layers",
               kWithData.dropout, kBuiltIn.dropout, app::finite_range(0, 0.99));
  cli.add_option("--word-dropout", s.word_dropout, "probability of replacing a training word by <unk>")
      ->check(app::finite_range(0, 0.99));
  cli.add_flag("--random-batches", s.random_batches,
               "batches of random sentences (default: of similar lengths, which pads less)");
  cli.add_flag("--crf", s.crf,
               "score tag sequences with a linear-chain CRF (BIO-constrained transitions; its loss, Viterbi "
               "decoding); on by default, --crf=false: a softmax per token")
      ->default_str("true");
  cli.add_option("--patience", s.patience,
                 "stop after this many evaluations without a better valid F1 (0: never)")
      ->check(app::finite_range(0, 1e6));
  cli.add_option("--tag", s.tag,
                 "tag this sentence (repeatable; '-': each line of standard input) after training, "
                 "or with --load instead of training")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->default_str("");
  cli.add_option("--max-length", s.max_length,
                 "refuse a --data sentence of more tokens than this (in any split), naming its file "
                 "and line: a few overlong lines would take gigabytes to train on")
      ->check(app::finite_range(1, 1e6));
  frame.free_on_resume("--tag");
  frame.free_on_resume("--max-length");
  app::TrainingFlags d;
  d.epochs = kWithData.epochs;
  d.clip = 5;
  frame.add_training_flags(d);
  // PATH.vocab and PATH.tags replace only files of their kind (their header).
  frame.add_save_sidecar(".vocab", "vocabulary", [](const std::string& p) { slots::Vocab::load(p); });
  frame.add_save_sidecar(".tags", "tag list", [](const std::string& p) { slots::TagSet::load(p); });
  frame.cli()
      .get_option("--epochs")
      ->description(fmt::format("end the run after this many epochs (default {} with --data, {} on the "
                                "built-in corpus)",
                                kWithData.epochs, kBuiltIn.epochs))
      ->default_str("");
}

void resolve_defaults(app::Frame& frame, Settings& s) {
  const app::TrainingFlags& f = frame.flags();
  const bool with = !f.data.empty();
  resolve(frame, "--embed", s.embed, kWithData.embed, kBuiltIn.embed, with);
  resolve(frame, "--hidden", s.hidden, kWithData.hidden, kBuiltIn.hidden, with);
  resolve(frame, "--lr", s.lr, kWithData.lr, kBuiltIn.lr, with);
  resolve(frame, "--dropout", s.dropout, kWithData.dropout, kBuiltIn.dropout, with);
  CLI::Option* epochs = frame.cli().get_option("--epochs");
  if (epochs->count() == 0) {
    epochs->add_result(std::to_string(default_epochs(with)));
    epochs->run_callback();
  }
  if (f.load.empty()) return;
  // A checkpoint from before --crf existed holds no "--crf": a softmax
  // tagger; nor "--schedule": a constant learning rate.
  auto saved = [&](const char* flag) {
    return frame.cli().get_option(flag)->count() > 0 ||
           frame.loaded_meta().contains(nlohmann::json::json_pointer(std::string("/config/") + flag));
  };
  if (!saved("--crf")) s.crf = false;
  if (!saved("--schedule")) s.schedule = "constant";
  if (!needs_data(frame, s) && (!f.save.empty() || !f.metrics.empty()))
    throw app::UsageError(
        "--load with --tag only tags: nothing is trained, --save and --metrics would stay empty");
  const std::string trained_on =
      frame.loaded_meta().value(nlohmann::json::json_pointer("/slot_filling/data"), std::string());
  if (needs_data(frame, s) && trained_on == "folder" && !with)
    throw app::UsageError("--load '" + f.load + "' was trained on a --data folder: give --data DIR");
}

bool needs_data(const app::Frame& frame, const Settings& s) {
  const app::TrainingFlags& f = frame.flags();
  return f.load.empty() || f.eval_only || s.tag.empty();
}

}  // namespace tg::slotapp
