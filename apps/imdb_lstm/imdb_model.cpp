#include "apps/imdb_lstm/imdb_model.hpp"

#include <algorithm>
#include <cmath>

namespace tg::imdb {
namespace {

RecurrentOptions rnn_options(const ModelSettings& s) {
  return RecurrentOptions(s.embed, s.hidden)
      .cell(CellType::LSTM)
      .num_layers(s.layers)
      .bidirectional(s.bidirectional)
      .dropout(s.dropout)
      .return_sequences(s.pool != "last");  // pooled over time, or the final state only
}

}  // namespace

Model::Model(const ModelSettings& s, std::size_t vocab_rows, Rng& rng)
    : settings(s),
      embedding(tape, vocab_rows, s.embed, rng, data::Vocab::kPad),
      rnn(tape, rnn_options(s), rng),
      head(tape, s.hidden * (s.bidirectional ? 2 : 1), 1, rng),
      pool_(parse_time_pool(s.pool)) {
  register_module("embedding", embedding);
  register_module("rnn", rnn);
  register_module("head", head);
}

Var<float> Model::logits(const Tensor<std::int64_t>& ids, const std::vector<int>& lengths,
                         bool training, Rng* rng) {
  if (ids.dimension() != 2)
    throw Error("imdb_lstm: ids must be (time, batch), got " + shape_str(ids.shape()));
  const std::size_t batch = ids.shape()[1];
  if (settings.mask && lengths.size() != batch)
    throw Error("imdb_lstm: " + std::to_string(lengths.size()) + " lengths for a batch of " +
                std::to_string(batch));
  train(training);
  // Evaluation looks each token's LSTM input projection up (project_vocabulary).
  const bool projected =
      projected_vocab_.defined() && !training && !tape.recording() && lengths.size() == batch;
  const bool embed_dropout = training && settings.embed_dropout > 0;
  if (embed_dropout && !rng) throw Error("imdb_lstm: training with dropout needs an Rng");
  // Dropout on the embedded tokens needs them as a tensor; otherwise the
  // layer looks the ids up itself (and its input projection with them).
  RecurrentInput<float> in = embed_dropout ? RecurrentInput<float>(dropout(embedding(ids), float(settings.embed_dropout), true, *rng))
                             : projected   ? RecurrentInput<float>::ids(projected_vocab_, ids)
                                           : RecurrentInput<float>::ids(embedding.weight, ids, embedding.padding_id);
  std::vector<std::size_t> real(lengths.begin(), lengths.end());
  // Without a mask the padding runs through the LSTM as in the protocol, and
  // the final state is the one after the last step, where left padding puts
  // every review's last token; the layer computes the padding once per step.
  if (settings.mask) in.mask_lengths(std::move(real), Padding::Left);
  else if (real.size() == batch) in.left_padding_as_input(std::move(real));
  if (rng) in.rng(*rng);
  const RecurrentOutput<float> out = rnn.forward(in);
  Var<float> h = pool_ == TimePool::last ? out.last() : pooled(out.output, lengths);  // (B, D*H)
  if (training && settings.dropout > 0) {
    if (!rng) throw Error("imdb_lstm: training with dropout needs an Rng");
    h = dropout(h, float(settings.dropout), true, *rng);
  }
  return reshape(head(h), Shape{batch});
}

Var<float> Model::pooled(const Var<float>& outputs, const std::vector<int>& lengths) const {
  const std::size_t steps = outputs.value().shape()[0], batch = outputs.value().shape()[1];
  // Unmasked, the padding is input like any token (the protocol's way): every
  // step is pooled.
  const Tensor<float> steps_mask = settings.mask
                                       ? sequence_mask<float>(lengths, steps, /*left_padded=*/true)
                                       : Tensor<float>(xt::ones<float>({steps, batch}));
  return pool_ == TimePool::max ? max_over_time(outputs, steps_mask) : mean_over_time(outputs, steps_mask);
}

Var<float> Model::logits(const data::ImdbBatch& batch, bool training, Rng* rng) {
  return logits(batch.ids, batch.lengths, training, rng);
}

void Model::project_vocabulary() {
  if (settings.mask || settings.bidirectional) return;
  auto no_grad = tape.no_grad();
  projected_vocab_ = rnn.project_table(embedding.weight);
}

Tensor<float> evaluation_logits(Model& model, const data::ImdbBatch& batch) {
  Tensor<float> z;
  {
    auto no_grad = model.tape.no_grad();
    z = model.logits(batch, /*training=*/false, nullptr).value();
  }
  model.tape.clear();
  return z;
}

std::vector<double> probabilities(Model& model, const data::ImdbBatch& batch) {
  const Tensor<float> z = evaluation_logits(model, batch);
  std::vector<double> p;
  for (const float logit : z) p.push_back(1.0 / (1.0 + std::exp(-double(logit))));
  return p;
}

std::size_t count_correct(Model& model, const data::ImdbSplit& split, std::size_t begin,
                          std::size_t count, std::size_t chunk) {
  chunk = std::max<std::size_t>(chunk, 1);
  const ProjectedVocabulary projected(model);
  std::size_t correct = 0;
  for (std::size_t at = begin; at < begin + count; at += chunk) {
    const data::ImdbBatch b = data::imdb_range(split, at, std::min(chunk, begin + count - at));
    const Tensor<float> z = evaluation_logits(model, b);
    for (std::size_t i = 0; i < b.labels.size(); ++i) correct += (z(i) > 0) == (b.labels(i) > 0.5f);
  }
  return correct;
}

double accuracy(Model& model, const data::ImdbSplit& split, std::size_t chunk) {
  if (split.size() == 0) return 0;
  return double(count_correct(model, split, 0, split.size(), chunk)) / double(split.size());
}

std::vector<double> predict(Model& model, const data::Vocab& vocab,
                            const std::vector<std::string>& texts, std::size_t chunk) {
  const data::ImdbSplit s = data::encode_texts(texts, {}, vocab, model.settings.maxlen);
  std::vector<double> p;
  chunk = std::max<std::size_t>(chunk, 1);
  const ProjectedVocabulary projected(model);
  for (std::size_t begin = 0; begin < s.size(); begin += chunk) {
    const std::vector<double> some = probabilities(model, data::imdb_range(s, begin, chunk));
    p.insert(p.end(), some.begin(), some.end());
  }
  return p;
}

}  // namespace tg::imdb
