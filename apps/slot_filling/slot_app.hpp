// The slot-filling app's logic: a recurrent tagger (slot_model.hpp) trained
// through train::Trainer with best-on-valid selection, conlleval scoring and
// tagging typed sentences (slot_scoring.hpp), and checkpoints that carry the
// vocabulary and tag set. main.cpp parses (app::Frame), loads the data and
// calls run(); the tests call the same functions. The files:
//
//   slot_model      the tagger, its vocabulary and tag files
//   slot_flags      the flags and the defaults that depend on the data
//   slot_run        run(): train and score, or only load; the log
//   slot_scoring    evaluation, tagging, score lines
//   slot_batches    a rank's share of a batch under mpirun
//   slot_report     the --report notebook's sections
//
// A checkpoint (--save PATH) is the Trainer's: the current weights
// (model.*), Adam's state, the settings and the position, and its early
// stopping on the valid F1: the weights of the best F1 so far (model.best.*),
// that F1, its epoch and step and the evaluations since (trainer/
// early_stopping); under the metadata key "slot_filling", the sha256 of
// PATH.vocab and PATH.tags written beside it. Resuming needs all of it;
// tagging and --eval-only use the best weights.
#pragma once

#include <cstddef>
#include <cstdio>
#include <iosfwd>
#include <string>
#include <vector>

#include "apps/common/frame.hpp"
#include "apps/common/session.hpp"
#include "apps/slot_filling/slot_model.hpp"
#include "apps/slot_filling/slot_scoring.hpp"
#include <tapegrad/datasets/sampler.hpp>
#include <tapegrad/datasets/slots/batch.hpp>
#include <tapegrad/datasets/slots/chunks.hpp>

namespace tg::slotapp {

// The app's own settings (the shared ones are in app::TrainingFlags), with
// the defaults of --data; resolve_defaults sets the built-in corpus's.
struct Settings {
  std::string cell = "lstm";
  bool bidirectional = true;
  std::size_t layers = 1, embed = 100, hidden = 160, batch = 16;
  double lr = 2e-3, dropout = 0.5, word_dropout = 0.05;
  std::string schedule = "cosine";  // constant | cosine (lr down to min_lr at the last step)
  double min_lr = 0;
  bool random_batches = false;
  bool crf = true;  // a CRF over the tag scores (its loss, Viterbi decoding); --crf=false: softmax
  std::size_t patience = 0;      // evaluations without a better valid F1 before stopping; 0 never
  std::vector<std::string> tag;  // sentences to tag; "-": the lines of standard input
  std::size_t max_length = slots::kMaxSentenceLength;  // tokens per sentence of --data, at most

  ModelConfig model(std::size_t vocab_size, std::size_t tag_count) const;
};

// Registers the app's flags and the shared ones on `frame`.
void add_flags(app::Frame& frame, Settings& settings);

// After frame.parse(): the defaults that depend on the data (--embed,
// --hidden, --lr, --dropout: one set with --data, tuned on ATIS, one for
// the built-in corpus) for the settings neither given nor restored from
// --load, recorded so the checkpoint stores them; and the checks of what
// --load with --tag may be combined with.
void resolve_defaults(app::Frame& frame, Settings& settings);

// --epochs when not given: 50 with --data, 6 on the built-in corpus.
std::size_t default_epochs(bool with_data);

// Estimates the run's memory from the settings and the data's vocabulary
// and longest sentence (apps/common/memory_budget.hpp) and throws
// app::UsageError when it exceeds --max-memory or, by default, the memory
// available (slot_memory.cpp). Called before the model is built.
void check_memory(const Settings& settings, const app::Frame& frame, const slots::SlotData& data);

// True when the run needs data (everything but --load with --tag alone).
bool needs_data(const app::Frame& frame, const Settings& settings);

// One epoch's batches of sentence indices in pools of 50 batches sorted by
// length: moved to datasets/sampler.hpp (the loader's bucket_pool).
using data::length_buckets;

// The model of a checkpoint (slot_model.hpp's load) in the shape of
// `settings` (the frame restored them from the file).
inline SlotModel load(const std::string& path, const Settings& settings) {
  return load(path, settings.model(0, 0));
}

struct RunResult : app::RunInfo {                    // steps, rows, times
  std::size_t best_epoch = 0, best_step = 0;
  double best_valid_f1 = -1;                        // a fraction
  bool stopped_early = false;                       // --patience ran out
  bool scored = false;                              // the test split was scored (not when only tagging)
  slots::ChunkScorer test;                          // with the best weights
  std::vector<std::string> tagged;                  // "> sentence\n" + tagging_report, per sentence
  SlotModel model;                                  // the best weights
};

// Trains to the end the flags set (fresh, or on from --load), keeping the
// weights of the best valid F1, then scores the test split with them and
// tags --tag's sentences; or, with --load, only evaluates (--eval-only) or
// only tags (--tag). `data` is unused when only tagging. Logs to `log`
// (nullptr: silent), warnings to `warn`. Under mpirun -np N each process
// trains on its share of every --batch, the valid scoring is shared between
// them, and rank 0 alone logs, saves and scores the test split
// (docs/distributed.md). Throws tg::Error on bad data or checkpoints,
// train::TrainingError when training goes non-finite.
RunResult run(const Settings& settings, const app::Frame& frame, const slots::SlotData& data,
              std::istream& in, std::FILE* log, std::FILE* warn = stderr);

}  // namespace tg::slotapp
