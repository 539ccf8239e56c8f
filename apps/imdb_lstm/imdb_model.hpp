// The IMDB homework's model (docs/protocols.md section 4): an LSTM reads a
// review's last 200 tokens and a linear layer turns its final state into the
// logit of "positive".
//
//   ids (T, B) int64, left-padded with 0
//     -> Embedding(vocab + 2, embed; row 0 = padding, kept at zero)   (T, B, E)
//     -> [embed dropout]
//     -> Recurrent LSTM(hidden, layers, [bidirectional])               (T, B, D*H)
//     -> top layer's final h: last time step                           (B, D*H)
//        (or with pool max / mean: the top layer's outputs pooled over the
//        review's steps, layers/pooling.hpp)
//     -> [dropout] -> Linear(D*H -> 1) -> logit                        (B,)
//   loss = bce_with_logits(logit, label)
//
// By default the padded sequence is fed as is (the protocol and its PyTorch
// twin: no masking; the left padding puts every review's last token at the
// last step). With `mask`, per-review lengths mask the padded steps (the state
// passes them unchanged), so the final state is the one after the review's
// own tokens in both directions.
//
// Also here: the model in evaluation mode (no_grad, dropout off) over whole
// splits and new texts, which may look each token's LSTM input projection up
// instead of computing it (ProjectedVocabulary).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/datasets/imdb.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/pooling.hpp>
#include <tapegrad/layers/recurrent.hpp>

namespace tg::imdb {

// The settings that define the model (the protocol's defaults); a checkpoint
// holds every one.
struct ModelSettings {
  std::size_t vocab = 20000;   // tokens in the vocabulary (embedding rows: vocab + 2)
  std::size_t maxlen = 200;    // tokens kept per review (the last ones)
  std::size_t embed = 128;
  std::size_t hidden = 128;
  std::size_t layers = 1;
  bool bidirectional = false;
  bool mask = false;           // mask padded steps with the review lengths
  double dropout = 0;          // between LSTM layers and before the Linear
  double embed_dropout = 0;    // on the embedded tokens, before the LSTM
  std::string pool = "last";   // what the Linear reads: last | max | mean (over time)
};

class Model : public Module<float> {
 public:
  // `vocab_rows`: the vocabulary's ids (Vocab::size(), padding and unknown
  // included), which may be fewer than settings.vocab + 2 on small data.
  Model(const ModelSettings& settings, std::size_t vocab_rows, Rng& rng);

  // Logits (B,) of a batch; `lengths` is used with settings.mask. Training
  // mode (dropout on) draws from `rng`.
  Var<float> logits(const Tensor<std::int64_t>& ids, const std::vector<int>& lengths,
                    bool training, Rng* rng);
  Var<float> logits(const data::ImdbBatch& batch, bool training, Rng* rng);

  // For evaluation and prediction: asks the LSTM for the embedding table's
  // projection (Recurrent::project_table, vocabulary x 4H), so that logits()
  // under no_grad looks each token's projection up instead of computing it:
  // half the products of the forward. Unmasked, unidirectional models only
  // (else it does nothing). A backward after it makes it stale, which the
  // layer refuses: forget it before training on.
  void project_vocabulary();
  void forget_projected_vocabulary() { projected_vocab_ = ProjectedTable<float>(); }

  // PyTorch: embedding = nn.Embedding(rows, E, padding_idx=0), rnn =
  // nn.LSTM(E, H, ...), head = nn.Linear(D*H, 1); the logit is
  // head(h_n of the top layer, directions concatenated).

  ModelSettings settings;
  Tape<float> tape;  // parameters live here; declared before the layers
  Embedding<float> embedding;
  Recurrent<float> rnn;
  Linear<float> head;

 private:
  // The top layer's outputs (T, B, D*H) pooled over each review's steps.
  Var<float> pooled(const Var<float>& outputs, const std::vector<int>& lengths) const;

  ProjectedTable<float> projected_vocab_;  // project_vocabulary()'s; undefined when off
  TimePool pool_;
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

// The logits of a batch in evaluation mode: under no_grad, dropout off; the
// tape is cleared after, so evaluation grows nothing.
Tensor<float> evaluation_logits(Model& model, const data::ImdbBatch& batch);

// P(positive) = sigmoid(logit) of each review of a batch, in evaluation mode.
std::vector<double> probabilities(Model& model, const data::ImdbBatch& batch);

// How many of reviews begin .. begin+count-1 of `split` are classified right
// (logit > 0 means positive), `chunk` at a time, with the projected vocabulary.
std::size_t count_correct(Model& model, const data::ImdbSplit& split, std::size_t begin,
                          std::size_t count, std::size_t chunk);

// The whole split's accuracy, `chunk` reviews at a time.
double accuracy(Model& model, const data::ImdbSplit& split, std::size_t chunk = 250);

// Probabilities of "positive", one per text, encoded with `vocab`.
std::vector<double> predict(Model& model, const data::Vocab& vocab,
                            const std::vector<std::string>& texts, std::size_t chunk = 250);

}  // namespace tg::imdb
