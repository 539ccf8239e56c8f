#include "apps/slot_filling/slot_model.hpp"

#include <algorithm>

#include <tapegrad/train/callbacks.hpp>
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

std::vector<std::string> tag_names(const slots::TagSet& tags) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < tags.size(); ++i) names.push_back(tags.tag(std::int64_t(i)));
  return names;
}

// --crf forbids I-X after anything but B-X or I-X: a training sentence that
// does it could not be learnt (its loss would be infinite).
void check_bio(const std::vector<slots::Utterance>& train, const CrfConstraints& c, const slots::TagSet& tags) {
  const std::size_t C = tags.size();
  for (std::size_t k = 0; k < train.size(); ++k)
    for (std::size_t t = 0; t < train[k].tags.size(); ++t) {
      const std::size_t y = std::size_t(tags.find(train[k].tags[t]));
      const bool ok = t == 0 ? c.start[y] != 0 : c.transition[std::size_t(tags.find(train[k].tags[t - 1])) * C + y] != 0;
      if (!ok)
        throw Error("--crf: train sentence " + std::to_string(k + 1) + " has " + train[k].tags[t] + " after " +
                    (t ? train[k].tags[t - 1] : std::string("the start")) +
                    ", which the CRF's BIO constraints forbid (an I-X only after B-X or I-X)");
    }
}

}  // namespace

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
  // Registered last and drawn from no Rng: without --crf the model and its
  // checkpoint are what they were.
  if (c.crf) {
    if (c.tag_names.size() != c.tag_count) throw Error("slot tagger: the CRF needs the tag names");
    crf = std::make_unique<Crf<float>>(t, c.tag_count, bio_constraints(c.tag_names));
    register_module("crf", *crf);
  }
}

Var<float> Tagger::loss(const Var<float>& scores, const slots::Batch& batch) const {
  if (!crf) {
    const std::vector<std::int64_t> targets(batch.tags.begin(), batch.tags.end());
    const std::vector<float> weights(batch.mask.begin(), batch.mask.end());
    return cross_entropy(scores, targets, weights);
  }
  std::size_t tokens = 0;
  for (std::size_t n : batch.lengths) tokens += n;
  // crf_nll is a mean over sentences; per token it is the softmax's scale.
  const float per_token = float(batch.lengths.size()) / float(std::max<std::size_t>(tokens, 1));
  return crf->nll(scores, Tensor<std::int64_t>(batch.tags), batch.lengths) * per_token;
}

xt::xarray<std::int64_t> Tagger::predict(const Tensor<float>& scores, const std::vector<std::size_t>& lengths) const {
  if (!crf) return argmax_tags(scores);
  return xt::xarray<std::int64_t>(crf->decode(scores, lengths));
}

Var<float> Tagger::forward(const xt::xarray<std::int64_t>& words, const std::vector<std::size_t>& lengths,
                           Rng& rng) {
  if (words.dimension() != 2 || words.shape()[1] != lengths.size())
    throw Error("slot tagger: words of shape " + shape_str(words.shape()) + " for " +
                std::to_string(lengths.size()) + " lengths");
  const float p = static_cast<float>(config.dropout);
  Var<float> e = embedding.forward(words);  // (T, B, E)
  if (is_training() && p > 0) e = dropout(e, p, true, rng);
  Var<float> h = rnn.forward(RecurrentInput(e).mask_lengths(lengths).rng(rng)).output;  // (T, B, D*H)
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
  if (config.crf) {
    config.tag_names = tag_names(m.tags);
    check_bio(data.train, bio_constraints(config.tag_names), m.tags);
  }
  m.tape = std::make_unique<Tape<float>>();
  Rng init(seed);
  m.tagger = std::make_unique<Tagger>(*m.tape, config, init);
  return m;
}

SlotModel load(const std::string& path, ModelConfig shape) {
  const nlohmann::json meta = ckpt::read_meta(path);
  SlotModel m;
  m.vocab = load_vocab(path, meta);
  m.tags = load_tags(path, meta);
  shape.vocab_size = m.vocab.size();
  shape.tag_count = m.tags.size();
  if (shape.crf) shape.tag_names = tag_names(m.tags);
  m.tape = std::make_unique<Tape<float>>();
  Rng init(0);  // every weight is then read from the file
  m.tagger = std::make_unique<Tagger>(*m.tape, shape, init);
  train::load_best_weights(path, m.tagger->named_parameters());  // early stopping's model.best.*
  ckpt::check_finite(m.tagger->named_parameters(), path + " holds weights that cannot be evaluated");
  m.tagger->eval();
  return m;
}

std::string vocab_path(const std::string& checkpoint) { return checkpoint + ".vocab"; }
std::string tags_path(const std::string& checkpoint) { return checkpoint + ".tags"; }

slots::Vocab load_vocab(const std::string& checkpoint, const nlohmann::json& meta) {
  return load_checked<slots::Vocab>(checkpoint, vocab_path(checkpoint), meta, "vocab_sha256");
}

slots::TagSet load_tags(const std::string& checkpoint, const nlohmann::json& meta) {
  return load_checked<slots::TagSet>(checkpoint, tags_path(checkpoint), meta, "tags_sha256");
}

void write_vocabulary(const SlotModel& m, const std::string& path, nlohmann::json& meta) {
  m.vocab.save(vocab_path(path));
  m.tags.save(tags_path(path));
  meta["vocab_sha256"] = data::sha256_file(vocab_path(path));
  meta["tags_sha256"] = data::sha256_file(tags_path(path));
}

void check_same_vocabulary(const SlotModel& m, const std::string& path, const nlohmann::json& meta) {
  const slots::Vocab vocab = load_vocab(path, meta);
  const slots::TagSet tags = load_tags(path, meta);
  bool same = vocab.size() == m.vocab.size() && tags.size() == m.tags.size();
  for (std::size_t i = 0; same && i < vocab.size(); ++i)
    same = vocab.word(std::int64_t(i)) == m.vocab.word(std::int64_t(i));
  for (std::size_t i = 0; same && i < tags.size(); ++i)
    same = tags.tag(std::int64_t(i)) == m.tags.tag(std::int64_t(i));
  if (!same)
    throw Error("the training data give another vocabulary or tag set than " + vocab_path(path) + " and " +
                tags_path(path) + ": --load needs the data it was trained on (--data)");
}

}  // namespace tg::slotapp
