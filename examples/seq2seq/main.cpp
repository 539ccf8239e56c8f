// Dates written in words, in five styles, read into ISO dates: a
// character-level encoder-decoder with attention, against tapegrad's
// installed headers alone. seq2seq.py is the same program in PyTorch.
//
//   "November 2nd 2026", "2 Nov 2026", "the 2nd of November, 2026",
//   "11/02/2026", "Mon, Nov 2, 2026"                    ->  "2026-11-02"
//
//   source ids (B, S), mask (B, S)
//     -> Embedding -> bidirectional LSTM (H each way)  enc (B, S, 2H)
//   decoder, 10 steps, from the encoder's final states (2H):
//     s = LSTMCell(embed(previous character), s)       s.h (B, 2H)
//     alpha = masked_softmax(enc . s.h, mask)           (B, S): padding gets 0
//     context = sum_s alpha_s enc_s                     (B, 2H)
//     logits = Linear(concat(s.h, context))             (B, 11)
//
// Training feeds the true previous character (teacher forcing); evaluation
// feeds back its own argmax (greedy decoding) on dates never seen in
// training, in any style: the dates are split, not the strings.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <tapegrad/autograd/autograd.hpp>
#include <tapegrad/layers/cells.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/train/trainer.hpp>

namespace {

using namespace tg;

// ---- the data (the same strings as seq2seq.py's for the same seed) ----

// SplitMix64, written out so that seq2seq.py draws the same numbers.
struct SplitMix {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return std::size_t(next() % n); }
};

struct Date {
  int y, m, d, weekday;  // weekday 0: Monday
};

const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
const char* const kWeekdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
const std::string kSourceChars = " ,/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const std::string kTargetChars = "0123456789-";
constexpr std::int64_t kBos = 11;  // the decoder's first input
constexpr std::size_t kStyles = 5, kTargetLength = 10, kHeldOut = 1000;

std::vector<Date> all_dates() {  // 1950-01-01 (a Sunday) to 2049-12-31
  std::vector<Date> out;
  for (int y = 1950; y < 2050; ++y)
    for (int m = 1; m <= 12; ++m) {
      const bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
      const int days = m == 2 ? 28 + leap : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31;
      for (int d = 1; d <= days; ++d) out.push_back({y, m, d, int((out.size() + 6) % 7)});
    }
  return out;
}

std::string ordinal(int d) {
  const int last = d % 10;
  return std::to_string(d) + (d / 10 == 1 ? "th" : last == 1 ? "st" : last == 2 ? "nd" : last == 3 ? "rd" : "th");
}

std::string two_digits(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

std::string written(const Date& t, std::size_t style) {
  const std::string month = kMonths[t.m - 1], mon = month.substr(0, 3), y = std::to_string(t.y);
  switch (style) {
    case 0: return month + " " + ordinal(t.d) + " " + y;                                   // November 2nd 2026
    case 1: return std::to_string(t.d) + " " + mon + " " + y;                              // 2 Nov 2026
    case 2: return "the " + ordinal(t.d) + " of " + month + ", " + y;                      // the 2nd of November, 2026
    case 3: return two_digits(t.m) + "/" + two_digits(t.d) + "/" + y;                      // 11/02/2026
    default:                                                                               // Mon, Nov 2, 2026
      return std::string(kWeekdays[t.weekday]) + ", " + mon + " " + std::to_string(t.d) + ", " + y;
  }
}

std::string iso(const Date& t) { return std::to_string(t.y) + "-" + two_digits(t.m) + "-" + two_digits(t.d); }

// Every date, shuffled by the seed; the first tenth is held out.
struct Dates {
  std::vector<Date> train, held_out;
};
Dates split_dates(std::uint64_t seed) {
  std::vector<Date> all = all_dates();
  SplitMix r{seed};
  for (std::size_t i = all.size() - 1; i > 0; --i) std::swap(all[i], all[r.below(i + 1)]);
  const std::size_t cut = all.size() / 10;
  return {{all.begin() + cut, all.end()}, {all.begin(), all.begin() + cut}};
}

template <class T>
struct Batch {
  std::vector<std::string> sources, targets;
  Tensor<std::int64_t> source;  // (B, S) character ids, 0 = padding
  Tensor<T> mask;               // (B, S) 1 on real characters
  // steps[0] = BOS, steps[t + 1] = target character t: the decoder's input
  // at step t is steps[t], its target steps[t + 1]. (B) each.
  std::vector<Tensor<std::int64_t>> steps;
  std::vector<std::int64_t> flat_targets;  // steps[1..10] one after another
};

// `count` examples: a random date of `dates` in a random style each.
template <class T>
Batch<T> make_batch(const std::vector<Date>& dates, std::size_t count, SplitMix r) {
  Batch<T> b;
  for (std::size_t i = 0; i < count; ++i) {
    const Date& date = dates[r.below(dates.size())];
    b.sources.push_back(written(date, r.below(kStyles)));
    b.targets.push_back(iso(date));
  }
  std::size_t longest = 0;
  for (const std::string& s : b.sources) longest = std::max(longest, s.size());
  b.source = zeros<std::int64_t>(Shape{count, longest});
  b.mask = zeros<T>(Shape{count, longest});
  b.steps.assign(kTargetLength + 1, zeros<std::int64_t>(Shape{count}));
  b.steps[0].fill(kBos);
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t c = 0; c < b.sources[i].size(); ++c) {
      b.source(i, c) = std::int64_t(kSourceChars.find(b.sources[i][c]) + 1);
      b.mask(i, c) = T(1);
    }
    for (std::size_t t = 0; t < kTargetLength; ++t)
      b.steps[t + 1][i] = std::int64_t(kTargetChars.find(b.targets[i][t]));
  }
  for (std::size_t t = 1; t <= kTargetLength; ++t)
    b.flat_targets.insert(b.flat_targets.end(), b.steps[t].begin(), b.steps[t].end());
  return b;
}

// ---- scoring ----

struct Scores {
  double exact = 0, chars = 0;  // fraction of dates right, of characters right
  std::vector<std::string> predictions;
};

Scores score(std::vector<std::string> predictions, const std::vector<std::string>& targets) {
  Scores s{0, 0, std::move(predictions)};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    s.exact += s.predictions[i] == targets[i];
    for (std::size_t c = 0; c < kTargetLength; ++c) s.chars += s.predictions[i][c] == targets[i][c];
  }
  s.exact /= double(targets.size());
  s.chars /= double(targets.size() * kTargetLength);
  return s;
}

// ---- the command line ----

struct Flags {
  std::size_t steps = 1000, hidden = 64, batch = 64, eval_every = 250;
  std::uint64_t seed = 1;
  float lr = 3e-3f;
  bool check = false, help = false;
};

const char* const kUsage =
    "usage: seq2seq [--steps N] [--seed N] [--hidden N] [--batch N] [--lr X] [--eval-every N] [--check]\n"
    "  --steps N       training steps (default 1000)\n"
    "  --seed N        data split, batches and weights (default 1)\n"
    "  --hidden N      encoder LSTM size each way; the decoder's is 2N (default 64)\n"
    "  --batch N       dates per step (default 64)\n"
    "  --lr X          Adam's learning rate (default 0.003)\n"
    "  --eval-every N  steps between held-out evaluations (default 250)\n"
    "  --check         only check the gradients of a tiny model in float64\n";

Flags parse_flags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--help" || name == "-h") { f.help = true; continue; }
    if (name == "--check") { f.check = true; continue; }
    if (i + 1 == argc) throw std::invalid_argument("unknown flag or missing value: " + name);
    const std::string text = argv[++i];
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    const bool whole = v >= 1 && v == double(std::uint64_t(v));
    if (*end != '\0' || text.empty() || v <= 0 || (name != "--lr" && !whole))
      throw std::invalid_argument(name + " needs a positive " + (name == "--lr" ? "number" : "integer") +
                                  ", not '" + text + "'");
    if (name == "--steps") f.steps = std::size_t(v);
    else if (name == "--seed") f.seed = std::uint64_t(v);
    else if (name == "--hidden") f.hidden = std::size_t(v);
    else if (name == "--batch") f.batch = std::size_t(v);
    else if (name == "--eval-every") f.eval_every = std::size_t(v);
    else if (name == "--lr") f.lr = float(v);
    else throw std::invalid_argument("unknown flag: " + name);
  }
  return f;
}

// ---- the model: float to train, double to check ----

template <class T>
struct Seq2Seq : Module<T> {
  Seq2Seq(Tape<T>& tape, std::size_t embed, std::size_t hidden, Rng& rng)
      : source_embed(tape, kSourceChars.size() + 1, embed, rng, 0),
        encoder(tape, RecurrentOptions(embed, hidden).bidirectional(true).batch_first(true).init(RecurrentInit::Torch),
                rng),
        target_embed(tape, kTargetChars.size() + 1, embed, rng),
        decoder(tape, embed, 2 * hidden, RecurrentInit::Torch, rng),  // as nn.LSTMCell's
        head(tape, 4 * hidden, kTargetChars.size(), rng) {
    this->register_module("source_embed", source_embed);
    this->register_module("encoder", encoder);
    this->register_module("target_embed", target_embed);
    this->register_module("decoder", decoder);
    this->register_module("head", head);
  }

  // The encoder's outputs (B, S, 2H) and the decoder's first state: both
  // directions' final states, concatenated (B, 2H).
  std::pair<Var<T>, State<T>> encode(const Batch<T>& b) const {
    RecurrentOutput<T> r = encoder.forward(RecurrentInput(source_embed(b.source)).mask(b.mask));
    return {r.output, {r.last(), concat({r.final[0].c, r.final[1].c}, 1)}};
  }

  // One decoder step from the previous characters (B): the logits (B, 11).
  Var<T> step(const Var<T>& enc, const Tensor<T>& mask, const IdList& previous, State<T>& s) const {
    s = decoder(target_embed(previous), s);
    Var<T> scores = squeeze(bmm(enc, unsqueeze(s.h, 2)), 2);                               // (B, S)
    Var<T> context = squeeze(bmm(unsqueeze(masked_softmax(scores, mask), 1), enc), 1);  // (B, 2H)
    return head(concat({s.h, context}, 1));
  }

  // Teacher forcing: the mean cross-entropy of every step.
  Var<T> loss(const Batch<T>& b) const {
    auto [enc, s] = encode(b);
    std::vector<Var<T>> logits;
    for (std::size_t t = 0; t < kTargetLength; ++t) logits.push_back(step(enc, b.mask, b.steps[t], s));
    return cross_entropy(concat(logits, 0), b.flat_targets);
  }

  // Greedy decoding: each step's argmax is the next step's input.
  std::vector<std::string> decode(const Batch<T>& b) const {
    auto [enc, s] = encode(b);
    Tensor<std::int64_t> previous = b.steps[0];
    std::vector<std::string> out(b.sources.size());
    for (std::size_t t = 0; t < kTargetLength; ++t) {
      previous = argmax(step(enc, b.mask, previous, s));
      for (std::size_t i = 0; i < out.size(); ++i) out[i] += kTargetChars[previous(i)];
    }
    return out;
  }

  Embedding<T> source_embed;
  Recurrent<T> encoder;
  Embedding<T> target_embed;
  LSTMCell<T> decoder;
  Linear<T> head;
};

// ---- training and evaluation ----

// Greedy decoding of a batch, scored.
Scores evaluate(const Seq2Seq<float>& model, Tape<float>& tape, const Batch<float>& set) {
  auto no_grad = tape.no_grad();
  Scores s = score(model.decode(set), set.targets);
  tape.clear();  // the values decoding left on the tape
  return s;
}

// Trains a model as the flags say through the Trainer, evaluating it on the
// held-out set as it goes: the last evaluation and the training time.
std::pair<Scores, double> train_and_evaluate(const Flags& f, const Dates& dates, const Batch<float>& held_out) {
  Tape<float> tape;
  Rng rng(f.seed);
  Seq2Seq<float> model(tape, 32, f.hidden, rng);
  std::printf("%s", model.summary().c_str());
  Adam<float> adam(model.parameters(), AdamOptions().lr(f.lr));
  train::Options options;
  options.batches_per_epoch = f.steps;  // fresh dates at every step
  options.steps = f.steps;
  options.eval_every = f.eval_every;
  options.clip = 1.0;
  train::Trainer<float> trainer(tape, model.named_parameters(), adam, options);
  Scores last;
  trainer.fit(
      [&](const train::Batch& at) {
        return model.loss(make_batch<float>(dates.train, f.batch, SplitMix{f.seed * 1000003 + at.step}));
      },
      [&] {
        last = evaluate(model, tape, held_out);
        return train::Metrics{{"held_out_exact", last.exact}, {"held_out_char", last.chars}};
      });
  return {last, trainer.train_seconds()};
}

// ---- the gradient check: a tiny instance of the whole model in float64 ----

bool check_gradients() {
  Tape<double> tape;
  Rng rng(3);
  Seq2Seq<double> model(tape, 3, 2, rng);
  const Dates dates = split_dates(1);
  const Batch<double> b = make_batch<double>(dates.train, 3, SplitMix{7});
  const GradcheckResult r = gradcheck(tape, model.parameters(), [&] { return model.loss(b); });
  std::printf("gradcheck seq2seq: %s, %zu parameters, %zu entries, max abs error %.3g\n", r.ok ? "ok" : "FAILED",
              model.parameters().size(), r.entries_checked, r.max_abs_error);
  if (!r.ok) std::printf("%s\n", r.report().c_str());
  return r.ok;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  try {
    f = parse_flags(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seq2seq: %s\n%s", e.what(), kUsage);
    return 2;
  }
  if (f.help) {
    std::printf("%s", kUsage);
    return 0;
  }
  try {
    if (f.check) return check_gradients() ? 0 : 1;

    const Dates dates = split_dates(f.seed);
    const Batch<float> held_out = make_batch<float>(dates.held_out, kHeldOut, SplitMix{f.seed + 1});
    std::printf("%zu training dates, %zu held out; e.g. '%s' -> %s\n", dates.train.size(), dates.held_out.size(),
                held_out.sources[0].c_str(), held_out.targets[0].c_str());

    const auto [last, seconds] = train_and_evaluate(f, dates, held_out);
    std::printf("held-out exact match %.4f, per-character accuracy %.4f on %zu dates; training %.1f s\n",
                last.exact, last.chars, kHeldOut, seconds);
    for (std::size_t i = 0; i < 8; ++i)
      std::printf("  %-28s -> %s  %s\n", ("'" + held_out.sources[i] + "'").c_str(), last.predictions[i].c_str(),
                  last.predictions[i] == held_out.targets[i] ? "ok" : ("want " + held_out.targets[i]).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seq2seq: error: %s\n", e.what());
    return 1;
  }
}
