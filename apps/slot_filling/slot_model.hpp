// slot_filling's model: the recurrent tagger, with the vocabulary and the tag
// set it reads and writes, and the files that carry them beside a
// checkpoint (PATH.vocab, PATH.tags, tied to it by their sha256).
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
// With crf (--crf) the scores s_t are a linear-chain CRF's emissions
// (layers/crf.hpp, BIO-constrained): the loss is the sentences' negative
// log-likelihood summed over the batch / its real tokens (the softmax's
// per-token scale), and the tags are the Viterbi path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <tapegrad/datasets/slots/utterance.hpp>
#include <tapegrad/datasets/slots/vocab.hpp>
#include <tapegrad/datasets/slots/batch.hpp>
#include <tapegrad/layers/crf.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>

namespace tg::slotapp {

// This app's part of the checkpoint metadata (the vocabulary files' sha256).
constexpr const char* kMetaKey = "slot_filling";

// What fixes the model's shape.
struct ModelConfig {
  std::size_t vocab_size = 0, tag_count = 0;
  std::size_t embed = 100, hidden = 128, layers = 1;
  std::string cell = "lstm";  // rnn | lstm | gru
  bool bidirectional = true;
  double dropout = 0.5;  // on embeddings, recurrent outputs, between layers
  bool crf = false;      // a CRF over the scores: its loss and Viterbi decoding
  std::vector<std::string> tag_names;  // the CRF's BIO constraints (crf only)
};

class Tagger : public Module<float> {
 public:
  Tagger(Tape<float>& tape, const ModelConfig& config, Rng& rng);

  // words (T, B) ids, lengths (B) -> tag scores (T, B, C). `rng` draws the
  // dropout masks; it is only read while training.
  Var<float> forward(const xt::xarray<std::int64_t>& words, const std::vector<std::size_t>& lengths,
                     Rng& rng);
  // The training loss of scores (T, B, C): the CRF's (see above) or the
  // cross-entropy of the real tokens (mask 0 on padding).
  Var<float> loss(const Var<float>& scores, const slots::Batch& batch) const;
  // The tags of scores (T, B, C): Viterbi with the CRF, else argmax.
  xt::xarray<std::int64_t> predict(const Tensor<float>& scores, const std::vector<std::size_t>& lengths) const;
  // Dropout is on in train() mode (the default), off after eval().
  // PyTorch: embedding = nn.Embedding(V, E, padding_idx=0), rnn =
  // nn.LSTM/GRU/RNN(E, H, ..., bidirectional), output = nn.Linear(D*H, C);
  // the scores are output(rnn(embedding(words))[0]).

  ModelConfig config;
  Tape<float>& tape;
  Embedding<float> embedding;
  Recurrent<float> rnn;
  Linear<float> output;
  std::unique_ptr<Crf<float>> crf;  // null without config.crf
};

// The tag of highest score per position: scores (T, B, C) -> ids (T, B).
xt::xarray<std::int64_t> argmax_tags(const Tensor<float>& scores);

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

// The model of a checkpoint: its best-on-valid weights, with PATH.vocab and
// PATH.tags (each checked against the sha256 the checkpoint recorded). The
// shape is `shape`'s (the frame restored the settings from the file), its
// vocabulary and tag count the files'.
SlotModel load(const std::string& path, ModelConfig shape);

// The files beside a checkpoint.
std::string vocab_path(const std::string& checkpoint);
std::string tags_path(const std::string& checkpoint);

// PATH.vocab and PATH.tags of a checkpoint, each checked against the sha256
// under `key` ("vocab_sha256", "tags_sha256") of the checkpoint's
// "slot_filling" metadata: a mismatch is a tg::Error naming the file.
slots::Vocab load_vocab(const std::string& checkpoint, const nlohmann::json& meta);
slots::TagSet load_tags(const std::string& checkpoint, const nlohmann::json& meta);

// --save PATH: writes PATH.vocab and PATH.tags beside it and records their
// sha256 in `meta` (the checkpoint's "slot_filling" metadata).
void write_vocabulary(const SlotModel& model, const std::string& checkpoint, nlohmann::json& meta);

// Resuming needs the data the checkpoint was trained on: a tg::Error unless
// the model's vocabulary and tag set are those of the checkpoint's files.
void check_same_vocabulary(const SlotModel& model, const std::string& checkpoint, const nlohmann::json& meta);

}  // namespace tg::slotapp
