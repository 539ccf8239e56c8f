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
// Everything the executable does lives here so the tests call it directly:
// loading the data, the model, one training epoch, evaluation in chunks,
// checkpoints (model + Adam state + every setting as metadata, vocabulary
// beside it) and predicting new texts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "datasets/imdb.hpp"
#include "layers/linear.hpp"
#include "layers/recurrent.hpp"
#include "optim/adam.hpp"

namespace tg::imdb {

// Every setting of a run, with the protocol's values as defaults.
struct Config {
  // model (stored in checkpoints)
  std::size_t vocab = 20000;   // tokens in the vocabulary (embedding rows: vocab + 2)
  std::size_t maxlen = 200;    // tokens kept per review (the last ones)
  std::size_t embed = 128;
  std::size_t hidden = 128;
  std::size_t layers = 1;
  bool bidirectional = false;
  bool mask = false;           // mask padded steps with the review lengths
  double dropout = 0;          // between LSTM layers and before the Linear
  // training
  std::size_t epochs = 5;
  std::size_t batch = 64;
  double lr = 1e-3;
  double clip = 5.0;           // global gradient norm
  std::size_t seed = 1;
  std::size_t max_batches = 0; // 0: whole epochs
  std::size_t eval_batch = 250;
};

// The model settings as checkpoint metadata ("app" = "imdb_lstm", "vocab",
// "maxlen", "embed", "hidden", "layers", "bidirectional", "mask", "dropout",
// plus the training settings for the record), and back. from_metadata throws
// tg::Error naming the checkpoint and the key that is missing or malformed.
std::map<std::string, std::string> to_metadata(const Config& c);
Config from_metadata(const std::map<std::string, std::string>& meta, const std::string& path);

class Model : public Module<float> {
 public:
  Model(const Config& config, Rng& rng);
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Logits (B,) of a batch; `lengths` is used with config.mask. Training
  // mode (dropout on) draws from `rng`.
  Var<float> logits(const Tensor<std::int64_t>& ids, const std::vector<int>& lengths,
                    bool training, Rng* rng);
  Var<float> logits(const tg::data::ImdbBatch& batch, bool training, Rng* rng);

  void collect(const std::string& prefix, std::vector<NamedParameter<float>>& out) const override;

  Config config;
  Tape<float> tape;  // parameters live here; declared before the layers
  Embedding<float> embedding;
  Recurrent<float> rnn;
  Linear<float> head;
};

// The whole split's accuracy (logit > 0 means positive), in chunks of
// config.eval_batch under no_grad, dropout off.
double accuracy(Model& model, const tg::data::ImdbSplit& split);

// Probabilities of "positive", one per text, encoded with `vocab`.
std::vector<double> predict(Model& model, const tg::data::Vocab& vocab,
                            const std::vector<std::string>& texts);

struct EpochResult {
  std::size_t epoch = 0;     // 1-based
  std::size_t steps = 0;
  std::size_t examples = 0;
  double train_loss = 0;     // mean over the examples trained on
  double seconds = 0;        // wall time of the training steps only
  double cpu_seconds = 0;
  double train_acc = -1, test_acc = -1;  // -1 when not evaluated
};

// Trains a model: owns the Adam optimizer and the shuffled batcher.
class Trainer {
 public:
  // `train` must outlive the trainer.
  Trainer(Model& model, const tg::data::ImdbSplit& train);
  // One epoch (config.max_batches batches when set). `on_step(done, total,
  // mean loss so far)` is called after each step (progress display).
  EpochResult train_epoch(
      const std::function<void(std::size_t, std::size_t, double)>& on_step = {});
  std::size_t steps_per_epoch() const;
  Adam<float>& optimizer() { return adam_; }
  std::size_t epochs_done() const { return epochs_done_; }
  void set_epochs_done(std::size_t e) { epochs_done_ = e; }

 private:
  Model& model_;
  Adam<float> adam_;
  tg::data::ImdbBatcher batcher_;
  Rng dropout_rng_;
  std::size_t epochs_done_ = 0;
};

// Loads the data: a folder (the verified package cache layout, as
// tg::data::fetch_imdb; empty = the default cache) or a reviews .json file
// read as is (your own data, unverified).
tg::data::Imdb load_data(const std::string& data, const Config& c, bool keep_text = false);

// Checkpoint `path` with the model, the optimizer state (when given) and the
// settings; the vocabulary goes to vocab_path(path).
std::string vocab_path(const std::string& checkpoint);
void save_checkpoint(const std::string& path, Model& model, Adam<float>* optimizer,
                     const tg::data::Vocab& vocab, std::size_t epochs_done);

struct Loaded {
  std::unique_ptr<Model> model;
  tg::data::Vocab vocab;
  std::size_t epochs_done = 0;
  std::map<std::string, std::string> metadata;
};
// Rebuilds the model from the checkpoint's settings and loads its weights
// and vocabulary. Throws tg::Error (naming the file) when the checkpoint is
// not an imdb_lstm one, when its tensors do not fit its settings, or when
// the vocabulary file does not match the embedding.
Loaded load_checkpoint(const std::string& path);
// Restores the Adam state saved with the model (resuming training).
void load_optimizer(const std::string& path, Model& model, Adam<float>& optimizer);

// Throws tg::Error when a model setting given on the command line (`given`
// holds the names, e.g. "hidden") differs from the checkpoint's.
void check_settings(const Config& wanted, const Config& checkpoint,
                    const std::vector<std::string>& given, const std::string& path);

}  // namespace tg::imdb
