// The slot-filling app's logic: a recurrent tagger, its training with
// best-on-valid selection, conlleval scoring, tagging typed sentences, and
// checkpoints that carry the vocabulary and tag set. main.cpp only calls
// run(); the tests call the same functions.
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
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "datasets/slots/batch.hpp"
#include "datasets/slots/chunks.hpp"
#include "datasets/slots/conlleval.hpp"
#include "datasets/slots/utterance.hpp"
#include "datasets/slots/vocab.hpp"
#include "layers/linear.hpp"
#include "layers/recurrent.hpp"

namespace tg::slotapp {

// What fixes the model's shape: stored in a checkpoint's metadata.
struct ModelConfig {
  std::size_t vocab_size = 0, tag_count = 0;
  std::size_t embed = 100, hidden = 128, layers = 1;
  std::string cell = "lstm";  // rnn | lstm | gru
  bool bidirectional = true;
  double dropout = 0.5;       // on embeddings, recurrent outputs, between layers

  std::map<std::string, std::string> to_metadata() const;
  // Throws tg::Error naming `path` and the key when something is missing or bad.
  static ModelConfig from_metadata(const std::map<std::string, std::string>& meta,
                                   const std::string& path);
};

class Tagger : public Module<float> {
 public:
  Tagger(Tape<float>& tape, const ModelConfig& config, Rng& rng);

  // words (T, B) ids, lengths (B) -> tag scores (T, B, C). `rng` draws the
  // dropout masks; it is only read while training.
  Var<float> forward(const xt::xarray<std::int64_t>& words, const std::vector<std::size_t>& lengths,
                     Rng& rng);
  // Dropout on while training, off for evaluation and tagging.
  void set_training(bool on);
  bool training() const { return training_; }

  void collect(const std::string& prefix, std::vector<NamedParameter<float>>& out) const override;

  ModelConfig config;
  Tape<float>& tape;
  Embedding<float> embedding;
  Recurrent<float> rnn;
  Linear<float> output;

 private:
  bool training_ = true;
};

// The tag of highest score per position: scores (T, B, C) -> ids (T, B).
xt::xarray<std::int64_t> argmax_tags(const Tensor<float>& scores);

// Everything training needs, flags included.
struct TrainConfig {
  ModelConfig model;
  std::size_t epochs = 30, batch = 32;
  double lr = 2e-3, word_dropout = 0.05, clip = 5.0;
  std::size_t patience = 0;  // stop after this many epochs without a better valid F1; 0 = never
  bool buckets = true;       // batches of similar lengths (see length_buckets)
  std::uint64_t seed = 1;
};

// One epoch's batches of sentence indices, drawn by rng: the sentences are
// shuffled, cut into pools of 50 batches, each pool sorted by length and cut
// into batches, and the batches shuffled. A batch then pads little (on ATIS
// random batches of 16 run 1.8x the real time steps, these about 1.05x)
// while every epoch still sees new batch mixes in a new order.
std::vector<std::vector<std::size_t>> length_buckets(const std::vector<std::size_t>& lengths,
                                                     std::size_t batch, slots::Rng& rng);

// Per epoch, what the app prints and writes to --metrics.
struct EpochReport {
  std::size_t epoch = 0;
  double loss = 0, valid_f1 = 0;
  double seconds = 0, cpu_seconds = 0;  // training only (wall clock, process CPU time)
  bool best = false;
};

struct TrainResult {
  std::size_t best_epoch = 0;
  double best_valid_f1 = -1;
  std::vector<EpochReport> epochs;
};

// A model with its vocabulary and tag set: what --save writes and --load reads.
struct SlotModel {
  std::unique_ptr<Tape<float>> tape;
  std::unique_ptr<Tagger> tagger;
  slots::Vocab vocab;
  slots::TagSet tags;
};

// A fresh model for these data (vocabulary and tags from the train split).
SlotModel make_model(const slots::SlotData& data, ModelConfig config, std::uint64_t seed,
                     std::size_t min_count = 1);

// Trains on data.train with Adam, scores data.valid after every epoch and
// keeps the parameters of the best valid F1, restored at the end. on_step
// (may be empty) sees (step in epoch, steps in epoch, running mean loss);
// on_epoch sees each epoch's report.
TrainResult train(SlotModel& model, const slots::SlotData& data, const TrainConfig& config,
                  const std::function<void(std::size_t, std::size_t, double)>& on_step,
                  const std::function<void(const EpochReport&)>& on_epoch);

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
//   slots: destination: Taipei; time of arrival: November 2nd
// (or "slots: none").
std::string tagging_report(const std::vector<std::string>& words,
                           const std::vector<std::string>& tags);

// Checkpoint at `path` (model parameters + ModelConfig metadata), vocabulary
// at path + ".vocab", tag set at path + ".tags".
void save(const SlotModel& model, const std::string& path);
SlotModel load(const std::string& path);
std::string vocab_path(const std::string& checkpoint);
std::string tags_path(const std::string& checkpoint);

// The whole command line: parses args (args[0] is the program name), runs,
// writes to out/err, returns the exit code (0 ok, 1 failure while running,
// 2 usage). Lines of standard input are read from `in` for --tag -.
int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err);

}  // namespace tg::slotapp
