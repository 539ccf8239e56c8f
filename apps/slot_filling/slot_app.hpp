// The slot-filling app's logic: a recurrent tagger trained through
// train::Trainer with best-on-valid selection, conlleval scoring, tagging
// typed sentences, and checkpoints that carry the vocabulary and tag set.
// main.cpp parses (app::Frame), loads the data and calls run(); the tests
// call the same functions.
//
// The tagger, per token t of a sentence (time-major batches, T x B):
//   e_t = Embedding(word_t)                       (E)      padding id 0 -> zeros
//   h_t = Recurrent(e_1..e_T, mask)_t             (D*H)    D = 2 when bidirectional;
//                                                          padded steps keep the state
//   s_t = h_t W + b                               (C)      one score per tag
//   loss = sum_t,b m_tb nll(softmax(s_tb), tag_tb) / sum m   (m = 0 on padding)
// with dropout on e_t and on h_t (and between stacked layers) while training.
// A token's tag is argmax_c s_t[c]; the backward direction lets a tag depend
// on the words after it too.
//
// A checkpoint (--save PATH) is the Trainer's: the current weights
// (model.*), Adam's state, the settings and the position, plus the weights
// of the best valid F1 so far (model.best.*) and, under the metadata key
// "slot_filling", that F1, its epoch and step, the evaluations since, and
// the sha256 of PATH.vocab and PATH.tags written beside it. Resuming needs
// all of it; tagging and --eval-only use the best weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "apps/common/frame.hpp"
#include <tapegrad/datasets/slots/batch.hpp>
#include <tapegrad/datasets/slots/chunks.hpp>
#include <tapegrad/datasets/slots/conlleval.hpp>
#include <tapegrad/datasets/slots/utterance.hpp>
#include <tapegrad/datasets/slots/vocab.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>

namespace tg::slotapp {

// What fixes the model's shape.
struct ModelConfig {
  std::size_t vocab_size = 0, tag_count = 0;
  std::size_t embed = 100, hidden = 128, layers = 1;
  std::string cell = "lstm";  // rnn | lstm | gru
  bool bidirectional = true;
  double dropout = 0.5;  // on embeddings, recurrent outputs, between layers
};

class Tagger : public Module<float> {
 public:
  Tagger(Tape<float>& tape, const ModelConfig& config, Rng& rng);

  // words (T, B) ids, lengths (B) -> tag scores (T, B, C). `rng` draws the
  // dropout masks; it is only read while training.
  Var<float> forward(const xt::xarray<std::int64_t>& words, const std::vector<std::size_t>& lengths,
                     Rng& rng);
  // Dropout is on in train() mode (the default), off after eval().
  // PyTorch: embedding = nn.Embedding(V, E, padding_idx=0), rnn =
  // nn.LSTM/GRU/RNN(E, H, ..., bidirectional), output = nn.Linear(D*H, C);
  // the scores are output(rnn(embedding(words))[0]).

  ModelConfig config;
  Tape<float>& tape;
  Embedding<float> embedding;
  Recurrent<float> rnn;
  Linear<float> output;
};

// The tag of highest score per position: scores (T, B, C) -> ids (T, B).
xt::xarray<std::int64_t> argmax_tags(const Tensor<float>& scores);

// The app's own settings (the shared ones are in app::TrainingFlags), with
// the defaults of --data; resolve_defaults sets the built-in corpus's.
struct Settings {
  std::string cell = "lstm";
  bool bidirectional = true;
  std::size_t layers = 1, embed = 100, hidden = 160, batch = 16;
  double lr = 2e-3, dropout = 0.5, word_dropout = 0.05;
  bool random_batches = false;
  std::size_t patience = 0;      // evaluations without a better valid F1 before stopping; 0 never
  std::vector<std::string> tag;  // sentences to tag; "-": the lines of standard input

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

// --epochs when not given: 30 with --data, 6 on the built-in corpus.
std::size_t default_epochs(bool with_data);

// True when the run needs data (everything but --load with --tag alone).
bool needs_data(const app::Frame& frame, const Settings& settings);

// One epoch's batches of sentence indices, drawn by rng: the sentences are
// shuffled, cut into pools of 50 batches, each pool sorted by length and cut
// into batches, and the batches shuffled. A batch then pads little (on ATIS
// random batches of 16 run 1.8x the real time steps, these about 1.05x)
// while every epoch still sees new batch mixes in a new order.
std::vector<std::vector<std::size_t>> length_buckets(const std::vector<std::size_t>& lengths,
                                                     std::size_t batch, slots::Rng& rng);

// A model with its vocabulary and tag set.
struct SlotModel {
  std::unique_ptr<Tape<float>> tape;
  std::unique_ptr<Tagger> tagger;
  slots::Vocab vocab;
  slots::TagSet tags;
};

// A fresh model for these data (vocabulary and tags from the train split).
SlotModel make_model(const slots::SlotData& data, ModelConfig config, std::uint64_t seed,
                     std::size_t min_count = 1);

// The weights of the best valid F1 so far, kept beside the tagger's as tape
// constants (no gradient, not optimized). Listed after the tagger's own
// parameters, as "best.<name>", they go into the Trainer's checkpoint.
class BestWeights {
 public:
  explicit BestWeights(const Tagger& tagger);  // starts as a copy of its weights
  void keep(const Tagger& tagger);             // the tagger's weights -> these
  void restore(Tagger& tagger) const;          // these -> the tagger's weights
  // The tagger's parameters, then these as "best.<name>".
  std::vector<NamedParameter<float>> with(const Tagger& tagger) const;

 private:
  std::vector<NamedParameter<float>> copies_;
};

// PATH.vocab and PATH.tags of a checkpoint, each checked against the sha256
// under `key` ("vocab_sha256", "tags_sha256") of the checkpoint's
// "slot_filling" metadata: a mismatch is a tg::Error naming the file.
slots::Vocab load_vocab(const std::string& checkpoint, const nlohmann::json& meta);
slots::TagSet load_tags(const std::string& checkpoint, const nlohmann::json& meta);

// The model of a checkpoint: its best-on-valid weights, with PATH.vocab and
// PATH.tags (each checked against the sha256 the checkpoint recorded). The
// shape comes from `settings` (the frame restored them from the file).
SlotModel load(const std::string& path, const Settings& settings);
std::string vocab_path(const std::string& checkpoint);
std::string tags_path(const std::string& checkpoint);

// conlleval scores of a split, predicted in chunks of `chunk` sentences under
// no_grad with dropout off, scored against the split's own tag strings (a
// tag the model cannot know counts as a miss).
slots::ChunkScorer evaluate(SlotModel& model, const std::vector<slots::Utterance>& split,
                            std::size_t chunk = 500);

// One sentence's words -> predicted tag strings.
std::vector<std::string> tag_words(SlotModel& model, const std::vector<std::string>& words);

// The tagging display: each token with its tag, then the filled slots:
//   I          O
//   ...
//   Taipei     B-dest
//   ...
//   destination: Taipei
//   time of arrival: November 2nd
// (or "slots: none").
std::string tagging_report(const std::vector<std::string>& words, const std::vector<std::string>& tags);

struct RunResult {
  std::size_t first_step = 0;  // steps already done by a loaded checkpoint
  std::size_t last_step = 0;   // where this run ended
  std::size_t best_epoch = 0, best_step = 0;
  double best_valid_f1 = -1;                        // a fraction
  std::vector<train::Row> rows;                     // the evaluations of this run
  double train_seconds = 0, train_cpu_seconds = 0;  // of this run's steps (wall, process CPU)
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
