#include "apps/slot_filling/slot_app.hpp"

#include <algorithm>

#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/datasets/sha256.hpp>

namespace tg::slotapp {
namespace {

RecurrentOptions recurrent_options(const ModelConfig& c) {
  return RecurrentOptions(c.embed, c.hidden)
      .cell(parse_cell_type(c.cell))
      .num_layers(c.layers)
      .bidirectional(c.bidirectional)
      .dropout(c.dropout);
}

// A sentence of word ids as a (T, 1) batch.
xt::xarray<std::int64_t> column(const std::vector<std::int64_t>& ids) {
  xt::xarray<std::int64_t> w = xt::xarray<std::int64_t>::from_shape({ids.size(), std::size_t{1}});
  for (std::size_t t = 0; t < ids.size(); ++t) w(t, 0) = ids[t];
  return w;
}

// Restores a tagger's training flag when leaving a scope.
class EvalMode {
 public:
  explicit EvalMode(Tagger& t) : t_(t), was_(t.is_training()) { t_.eval(); }
  ~EvalMode() { t_.train(was_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Tagger& t_;
  bool was_;
};

// The file beside `checkpoint`, after its sha256 is checked against the one
// the checkpoint recorded under slot_filling/<key>.
template <class Loaded>
Loaded load_checked(const std::string& checkpoint, const std::string& file, const nlohmann::json& meta,
                    const char* key) {
  const nlohmann::json& want = ckpt::at(meta, std::string("/slot_filling/") + key, checkpoint);
  const std::string got = data::sha256_file(file);
  if (!want.is_string() || got != want.get<std::string>())
    throw Error(file + ": its sha256 " + got + " is not the " + want.dump() + " recorded in " + checkpoint +
                " (the file was changed, or belongs to another checkpoint)");
  return Loaded::load(file);
}

}  // namespace

ModelConfig Settings::model(std::size_t vocab_size, std::size_t tag_count) const {
  ModelConfig c;
  c.vocab_size = vocab_size;
  c.tag_count = tag_count;
  c.embed = embed;
  c.hidden = hidden;
  c.layers = layers;
  c.cell = cell;
  c.bidirectional = bidirectional;
  c.dropout = dropout;
  return c;
}

Tagger::Tagger(Tape<float>& t, const ModelConfig& c, Rng& rng)
    : config(c),
      tape(t),
      embedding(t, c.vocab_size, c.embed, rng, slots::Vocab::kPad),
      rnn(t, recurrent_options(c), rng),
      output(t, c.hidden * (c.bidirectional ? 2 : 1), c.tag_count, rng) {
  if (c.vocab_size < 2 || c.tag_count < 1 || c.embed == 0 || c.hidden == 0 || c.layers == 0)
    throw Error("slot tagger: bad shape (vocabulary " + std::to_string(c.vocab_size) + ", tags " +
                std::to_string(c.tag_count) + ", embed " + std::to_string(c.embed) + ", hidden " +
                std::to_string(c.hidden) + ", layers " + std::to_string(c.layers) + ")");
  register_module("embedding", embedding);
  register_module("rnn", rnn);
  register_module("output", output);
}

Var<float> Tagger::forward(const xt::xarray<std::int64_t>& words, const std::vector<std::size_t>& lengths,
                           Rng& rng) {
  if (words.dimension() != 2 || words.shape()[1] != lengths.size())
    throw Error("slot tagger: words of shape " + shape_str(words.shape()) + " for " +
                std::to_string(lengths.size()) + " lengths");
  const float p = static_cast<float>(config.dropout);
  Var<float> e = embedding.forward(words);  // (T, B, E)
  if (is_training() && p > 0) e = dropout(e, p, true, rng);
  const Tensor<float> mask = sequence_mask<float>(lengths, words.shape()[0]);
  Var<float> h = rnn.forward(e, &mask, nullptr, &rng).output;  // (T, B, D*H)
  if (is_training() && p > 0) h = dropout(h, p, true, rng);
  return output.forward(h);  // (T, B, C)
}

xt::xarray<std::int64_t> argmax_tags(const Tensor<float>& s) {
  if (s.dimension() != 3) throw Error("argmax_tags: scores of shape " + shape_str(s.shape()));
  const std::size_t T = s.shape()[0], B = s.shape()[1], C = s.shape()[2];
  xt::xarray<std::int64_t> ids = xt::xarray<std::int64_t>::from_shape({T, B});
  const float* p = s.data();
  for (std::size_t r = 0; r < T * B; ++r, p += C)
    ids.data()[r] = static_cast<std::int64_t>(std::max_element(p, p + C) - p);
  return ids;
}

SlotModel make_model(const slots::SlotData& data, ModelConfig config, std::uint64_t seed,
                     std::size_t min_count) {
  if (data.train.empty()) throw Error("the train split is empty");
  SlotModel m;
  m.vocab = slots::Vocab::build(data.train, min_count);
  m.tags = slots::TagSet::build(data.train);
  config.vocab_size = m.vocab.size();
  config.tag_count = m.tags.size();
  m.tape = std::make_unique<Tape<float>>();
  Rng init(seed);
  m.tagger = std::make_unique<Tagger>(*m.tape, config, init);
  return m;
}

slots::ChunkScorer evaluate(SlotModel& model, const std::vector<slots::Utterance>& split, std::size_t chunk) {
  slots::ChunkScorer scorer;
  if (split.empty()) return scorer;
  const slots::EncodedSplit enc = slots::encode(split, model.vocab, model.tags);
  EvalMode eval(*model.tagger);
  Rng unused(0);
  Tape<float>& tape = *model.tape;
  for (const auto& idx : slots::batch_indices(split.size(), chunk)) {
    const slots::Batch b = slots::make_batch(enc, idx);
    {
      auto g = tape.no_grad();
      const Var<float> scores = model.tagger->forward(b.words, b.lengths, unused);
      const auto pred = slots::decode_tags(argmax_tags(scores.value()), b.lengths, model.tags);
      for (std::size_t c = 0; c < pred.size(); ++c) scorer.add(split[b.index[c]].tags, pred[c]);
    }
    tape.clear();
  }
  return scorer;
}

std::vector<std::string> tag_words(SlotModel& model, const std::vector<std::string>& words) {
  if (words.empty()) return {};
  EvalMode eval(*model.tagger);
  Rng unused(0);
  std::vector<std::string> out;
  {
    auto g = model.tape->no_grad();
    const Var<float> scores =
        model.tagger->forward(column(model.vocab.encode(words)), {words.size()}, unused);
    out = slots::decode_tags(argmax_tags(scores.value()), {words.size()}, model.tags)[0];
  }
  model.tape->clear();
  return out;
}

std::string tagging_report(const std::vector<std::string>& words, const std::vector<std::string>& tags) {
  std::size_t width = 0;
  for (const auto& w : words) width = std::max(width, w.size());
  std::string s;
  for (std::size_t i = 0; i < words.size(); ++i)
    s += "  " + words[i] + std::string(width - words[i].size() + 2, ' ') + tags[i] + "\n";
  const auto slots_found = slots::filled_slots(words, tags);
  if (slots_found.empty()) return s + "  slots: none\n";
  for (const auto& f : slots_found) s += "  " + f.name + ": " + f.value + "\n";
  return s;
}

std::vector<std::vector<std::size_t>> length_buckets(const std::vector<std::size_t>& lengths,
                                                     std::size_t batch, slots::Rng& rng) {
  if (batch == 0) throw Error("length_buckets: batch size 0");
  auto shuffle = [&rng](auto& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
  };
  std::vector<std::size_t> order(lengths.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  shuffle(order);
  const std::size_t pool = 50 * batch;
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t p = 0; p < order.size(); p += pool) {
    const auto first = order.begin() + p, last = order.begin() + std::min(order.size(), p + pool);
    std::stable_sort(first, last, [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
    for (auto it = first; it < last; it += std::min<std::ptrdiff_t>(batch, last - it))
      batches.emplace_back(it, it + std::min<std::ptrdiff_t>(batch, last - it));
  }
  shuffle(batches);
  return batches;
}

std::string vocab_path(const std::string& checkpoint) { return checkpoint + ".vocab"; }
std::string tags_path(const std::string& checkpoint) { return checkpoint + ".tags"; }

BestWeights::BestWeights(const Tagger& tagger) {
  for (const auto& p : tagger.named_parameters())
    copies_.push_back({"best." + p.name, tagger.tape.constant(p.var.value())});
}

void BestWeights::keep(const Tagger& tagger) {
  const auto params = tagger.named_parameters();
  for (std::size_t i = 0; i < params.size(); ++i) copies_[i].var.value() = params[i].var.value();
}

void BestWeights::restore(Tagger& tagger) const {
  auto params = tagger.named_parameters();
  for (std::size_t i = 0; i < params.size(); ++i) params[i].var.value() = copies_[i].var.value();
}

std::vector<NamedParameter<float>> BestWeights::with(const Tagger& tagger) const {
  std::vector<NamedParameter<float>> all = tagger.named_parameters();
  all.insert(all.end(), copies_.begin(), copies_.end());
  return all;
}

slots::Vocab load_vocab(const std::string& checkpoint, const nlohmann::json& meta) {
  return load_checked<slots::Vocab>(checkpoint, vocab_path(checkpoint), meta, "vocab_sha256");
}

slots::TagSet load_tags(const std::string& checkpoint, const nlohmann::json& meta) {
  return load_checked<slots::TagSet>(checkpoint, tags_path(checkpoint), meta, "tags_sha256");
}

SlotModel load(const std::string& path, const Settings& settings) {
  const nlohmann::json meta = ckpt::read_meta(path);
  SlotModel m;
  m.vocab = load_vocab(path, meta);
  m.tags = load_tags(path, meta);
  m.tape = std::make_unique<Tape<float>>();
  Rng init(0);
  m.tagger = std::make_unique<Tagger>(*m.tape, settings.model(m.vocab.size(), m.tags.size()), init);
  const BestWeights best(*m.tagger);
  ckpt::load<float>(path, best.with(*m.tagger), nullptr);
  best.restore(*m.tagger);
  m.tagger->eval();
  return m;
}

}  // namespace tg::slotapp
