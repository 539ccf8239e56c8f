// imdb_lstm's flags: the recipe's defaults, --protocol for the homework's
// settings exactly, and the shared training flags.
#include <fmt/core.h>

#include "apps/common/schedule.hpp"
#include "apps/imdb_lstm/imdb_app.hpp"

namespace tg::imdb {

// The recipe (docs/imdb_lstm.md, "The default recipe"); protocol_settings()
// lists what it changes.
Settings::Settings() {
  mask = true;
  bidirectional = true;
  pool = "mean";
  dropout = 0.5;
  schedule = "cosine";
  lr = kRecipeLr;
}

namespace {

// The settings that define the model (a checkpoint holds every one).
void add_model_flags(CLI::App& cli, Settings& s) {
  cli.add_option("--layers", s.layers, "stacked LSTM layers (the protocol: 1, or 2)")
      ->check(app::finite_range(1, 64));
  // A bare flag on by default is turned off as --flag=false (as in every app).
  cli.add_flag("--bidirectional", s.bidirectional,
               "run the LSTM both ways (the Linear reads both directions); on by default, "
               "--bidirectional=false: one direction (the protocol)")
      ->default_str("true");
  cli.add_option("--hidden", s.hidden, "LSTM hidden units")->check(app::finite_range(1, 8192));
  cli.add_option("--embed", s.embed, "embedding size")->check(app::finite_range(1, 8192));
  cli.add_option("--vocab", s.vocab, "vocabulary tokens (ids 2..vocab+1; 0 padding, 1 unknown)")
      ->check(app::finite_range(1, 1e6));
  cli.add_option("--maxlen", s.maxlen, "tokens kept per review (the last ones, left-padded)")
      ->check(app::finite_range(1, 10000));
  cli.add_flag("--mask", s.mask,
               "mask the padded steps with each review's length; on by default, --mask=false: feed "
               "the padding as input (the protocol)")
      ->default_str("true");
  cli.add_option("--dropout", s.dropout,
                 "dropout probability between LSTM layers and before the Linear (training only)")
      ->check(app::finite_range(0, 0.99));
  cli.add_option("--embed-dropout", s.embed_dropout,
                 "dropout probability on the embedded tokens, before the LSTM (training only)")
      ->check(app::finite_range(0, 0.99));
  cli.add_option("--pool", s.pool,
                 "what the Linear reads: last (the LSTM's final state, the protocol), max or mean (each "
                 "feature's largest or mean value over the review's steps)")
      ->check(CLI::IsMember({"last", "max", "mean"}));
}

}  // namespace

void add_flags(app::Frame& frame, Settings& s) {
  CLI::App& cli = frame.cli();
  add_model_flags(cli, s);
  cli.add_option("--valid", s.valid,
                 "training reviews held out to choose the epoch (an even spread, the same for every "
                 "seed): each evaluation scores them, and the epoch with the best valid accuracy is kept "
                 "(its weights, its test accuracy the result); default: a tenth of the training split "
                 "(2500 on IMDB); 0: none, the last epoch is kept (the protocol)")
      ->check(app::finite_range(0, 25000))
      ->default_str("");
  cli.add_option("--batch", s.batch, "reviews per training step")->check(app::finite_range(1, 25000));
  cli.add_option("--lr", s.lr, "Adam learning rate (betas 0.9/0.999, eps 1e-8)")
      ->check(app::finite_range(1e-12, 10));
  app::add_schedule_flags(cli, s.schedule, s.min_lr, "constant (the protocol)");
  cli.add_option("--eval", s.eval,
                 "accuracies at each evaluation: both (whole train and test splits), test, or "
                 "none (timing runs: the loss only)")
      ->check(CLI::IsMember({"both", "test", "none"}));
  cli.add_option("--eval-batch", s.eval_batch, "reviews per evaluation chunk (memory vs speed)")
      ->check(app::finite_range(1, 25000));
  frame.add_preset("--protocol",
                   "the homework's protocol exactly (docs/protocols.md section 4): --mask=false "
                   "--bidirectional=false --pool last --dropout 0 --embed-dropout 0 --valid 0 --schedule "
                   "constant --lr 0.001; a flag given beside it wins",
                   protocol_settings());
  app::TrainingFlags d;
  d.epochs = 5;
  d.clip = 5.0;
  frame.add_training_flags(d);
  // PATH.vocab replaces only a vocabulary (<pad>, <unk>, then valid tokens).
  frame.add_save_sidecar(".vocab", "vocabulary", [](const std::string& p) { data::Vocab::load(p); });
  cli.add_option("--predict", s.predict,
                 "with --load: print the probability that this text is positive, train nothing "
                 "(repeatable; '-' reads one text per line from stdin)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->needs("--load");
  for (const char* free : {"--eval", "--eval-batch", "--predict"}) frame.free_on_resume(free);
}

}  // namespace tg::imdb
