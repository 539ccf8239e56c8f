// char_rnn: a character-level LSTM language model, the lecture's "RNN that
// writes". It reads a text file, learns to predict each next character and
// then writes text of its own.
//
//   ids (T, B)  -> Embedding       (T, B, E)
//               -> LSTM            (T, B, H)   state carried across windows
//               -> Linear          (T, B, V)   logits over the vocabulary
//
// The vocabulary is the text's bytes; the last 10% of the text is held out.
// Training is truncated backpropagation through time: the training text is
// cut into `batch` parallel streams read in consecutive windows of `seq-len`
// characters; the LSTM's final state of one window is the initial state of
// the next, detached, so gradients stop at the window's start. The held-out
// bits per character (mean cross-entropy / ln 2) are reported at every
// evaluation; at the end the model samples characters after a prime string.
// char_rnn.py is the same program in PyTorch.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <tapegrad/autograd/autograd.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/train/trainer.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xview.hpp>

using namespace tg;
using Ids = Tensor<std::int64_t>;

bool check_gradients();  // --check, at the end of this file

// ---- Arguments and the text file (not counted in the README's line counts)

struct Settings {
  std::string text = "/usr/share/common-licenses/GPL-3", prime = "The ";
  std::size_t steps = 600, eval_every = 100, hidden = 128, layers = 2, embed = 32, seq_len = 64,
              batch = 32, sample_chars = 500, seed = 1, threads = 1;
  double lr = 2e-3, clip = 5, temperature = 0.8;
  bool check = false;
};

const char* kUsage = R"(char_rnn: a character-level LSTM language model on a text file.
  --text PATH          the text (default /usr/share/common-licenses/GPL-3)
  --steps N            training steps (600)            --eval-every N   (100)
  --hidden N           LSTM units (128)                --layers N       (2)
  --embed N            embedding size (32)             --lr X           Adam's (0.002)
  --seq-len N          characters per window (64)      --batch N        parallel streams (32)
  --clip X             gradient norm clip (5)          --seed N         (1)
  --prime TEXT         the start of the sample ("The ")
  --sample-chars N     characters to sample (500)      --temperature X  (0.8)
  --threads N          OpenBLAS threads (1)
  --check              check the model's float64 gradients, then exit
)";

Settings parse(int argc, char** argv) {
  Settings s;
  const std::map<std::string, std::size_t*> sizes{
      {"--steps", &s.steps},   {"--eval-every", &s.eval_every}, {"--hidden", &s.hidden},
      {"--layers", &s.layers}, {"--embed", &s.embed},           {"--seq-len", &s.seq_len},
      {"--batch", &s.batch},   {"--sample-chars", &s.sample_chars}, {"--seed", &s.seed},
      {"--threads", &s.threads}};
  const std::map<std::string, double*> reals{{"--lr", &s.lr}, {"--clip", &s.clip}, {"--temperature", &s.temperature}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") std::printf("%s", kUsage), std::exit(0);
    if (arg == "--check") {
      s.check = true;
      continue;
    }
    if (i + 1 == argc) throw Error(arg + " needs a value (see --help)");
    const std::string value = argv[++i];
    char* end = nullptr;
    if (arg == "--text") s.text = value;
    else if (arg == "--prime") s.prime = value;
    else if (sizes.count(arg)) *sizes.at(arg) = std::strtoull(value.c_str(), &end, 10);
    else if (reals.count(arg)) *reals.at(arg) = std::strtod(value.c_str(), &end);
    else throw Error("unknown option " + arg + " (see --help)");
    if (end && (*end || value.empty() || value[0] == '-')) throw Error(arg + ": not a number: '" + value + "'");
  }
  for (std::size_t n : {s.steps, s.hidden, s.layers, s.embed, s.seq_len, s.batch, s.threads})
    if (n == 0) throw Error("--steps, --hidden, --layers, --embed, --seq-len, --batch and --threads must be >= 1");
  return s;
}

struct Text {
  std::string chars;  // the vocabulary: id -> byte, in byte order
  Ids train, held_out;
};

Text read_text(const Settings& s) {
  std::ifstream in(s.text, std::ios::binary);
  if (!in) throw Error(s.text + ": cannot open the text file");
  const std::string all{std::istreambuf_iterator<char>(in), {}};
  Text t;
  for (int c = 0; c < 256; ++c)
    if (all.find(char(c)) != std::string::npos) t.chars += char(c);
  Ids ids = Ids::from_shape({all.size()});
  for (std::size_t i = 0; i < all.size(); ++i) ids(i) = std::int64_t(t.chars.find(all[i]));
  const std::size_t cut = all.size() * 9 / 10;
  t.train = xt::view(ids, xt::range(0, cut));
  t.held_out = xt::view(ids, xt::range(cut, all.size()));
  const std::size_t need = s.batch * (s.seq_len + 1);
  if (t.train.size() < need || t.held_out.size() < 2)
    throw Error(s.text + ": " + std::to_string(all.size()) + " characters is too short: one batch of " +
                std::to_string(s.batch) + " streams of " + std::to_string(s.seq_len + 1) + " needs " +
                std::to_string(need) + " in the first 90%, and 2 are held out");
  const std::size_t unknown = s.prime.find_first_not_of(t.chars);
  if (s.prime.empty() || unknown != std::string::npos)
    throw Error("--prime '" + s.prime + "': " +
                (s.prime.empty() ? "empty" : "'" + s.prime.substr(unknown, 1) + "' is not in " + s.text));
  return t;
}

// ---- The model, training and generation

// Window i of the text cut into `batch` streams: characters [i*T, (i+1)*T)
// of each stream, x (T, B), and the characters that follow them, y (T*B).
std::pair<Ids, Ids> window(const Ids& text, std::size_t batch, std::size_t seq_len, std::size_t i) {
  const std::size_t stream = text.size() / batch;
  auto streams = xt::reshape_view(xt::view(text, xt::range(0, batch * stream)), {batch, stream});
  const Ids chunk = xt::transpose(xt::view(streams, xt::all(), xt::range(i * seq_len, (i + 1) * seq_len + 1)));
  return {xt::view(chunk, xt::range(0, seq_len)), xt::flatten(xt::view(chunk, xt::range(1, seq_len + 1)))};
}

// Templated on the scalar: float to train, double to check the gradients.
template <class T>
struct CharRnn : Module<T> {
  CharRnn(Tape<T>& tape, std::size_t vocab, const Settings& s, Rng& rng)
      : embed(tape, vocab, s.embed, rng),
        lstm(tape, RecurrentOptions(s.embed, s.hidden).cell(CellType::LSTM).num_layers(s.layers)
                       .init(RecurrentInit::Torch), rng),  // drawn as nn.LSTM's, to compare with char_rnn.py
        head(tape, s.hidden, vocab, rng) {
    this->register_module("embed", embed);
    this->register_module("lstm", lstm);
    this->register_module("head", head);
  }

  // ids (T, B) -> logits (T, B, V), and the LSTM's final state (one State
  // per layer) from the initial `state` (empty: zeros).
  std::pair<Var<T>, std::vector<State<T>>> forward(const Ids& ids, const std::vector<State<T>>& state = {}) const {
    RecurrentOutput<T> out = lstm.forward(RecurrentInput(embed(ids)).initial(state));
    return {head(out.output), out.final};
  }

  Embedding<T> embed;
  Recurrent<T> lstm;
  Linear<T> head;
};

// The prime, then `sample_chars` characters drawn one at a time from
// softmax(logits / temperature), each fed back as the next input.
std::string generate(Tape<float>& tape, const CharRnn<float>& model, const Text& text, const Settings& s) {
  auto no_grad = tape.no_grad();
  Rng rng(s.seed);
  Ids x = Ids::from_shape({s.prime.size(), 1});
  for (std::size_t i = 0; i < s.prime.size(); ++i) x(i, 0) = std::int64_t(text.chars.find(s.prime[i]));
  std::string out = s.prime;
  std::vector<State<float>> state;
  for (std::size_t i = 0; i < s.sample_chars; ++i) {
    Var<float> logits;
    std::tie(logits, state) = model.forward(x, state);
    const std::int64_t next = sample(select(logits, x.shape()[0] - 1), rng, s.temperature)(0);
    out += text.chars[std::size_t(next)];
    x = Ids({1, 1}, next);
  }
  return out;
}

int main(int argc, char** argv) {
  try {
    const Settings s = parse(argc, argv);
    blas::set_num_threads(int(s.threads));
    if (s.check) return check_gradients() ? 0 : 1;
    const Text text = read_text(s);
    std::printf("%s: vocabulary %zu (log2 %.4f), %zu characters to train on, %zu held out\n", s.text.c_str(),
                text.chars.size(), std::log2(double(text.chars.size())), text.train.size(), text.held_out.size());

    Tape<float> tape;
    Rng rng(s.seed);
    CharRnn<float> model(tape, text.chars.size(), s, rng);
    std::printf("%s", model.summary().c_str());
    Adam<float> adam(model.parameters(), AdamOptions().lr(s.lr));
    train::Options options;
    options.batches_per_epoch = (text.train.size() / s.batch - 1) / s.seq_len;
    options.steps = s.steps;
    options.eval_every = s.eval_every;
    options.clip = s.clip;
    train::Trainer<float> trainer(tape, model.named_parameters(), adam, options, s.seed);

    std::vector<State<float>> state;  // carried from window to window
    auto train_step = [&](const train::Batch& b) {
      if (b.index == 0) state.clear();  // each pass over the text starts from zeros
      const auto [x, y] = window(text.train, s.batch, s.seq_len, b.index);
      auto [logits, final] = model.forward(x, state);
      state = detach(final);  // the next window's gradients stop here
      return cross_entropy(logits, y);
    };
    auto evaluate = [&] {  // the held-out text, read as one stream
      auto no_grad = tape.no_grad();
      const auto [x, y] = window(text.held_out, 1, text.held_out.size() - 1, 0);
      return train::Metrics{{"held_out_bpc", cross_entropy(model.forward(x).first, y).item() / std::log(2.0)}};
    };
    trainer.fit(train_step, evaluate);
    std::printf("trained %zu steps in %.1f s (CPU %.1f s), %.2f ms per step\n", s.steps, trainer.train_seconds(),
                trainer.train_cpu_seconds(), 1e3 * trainer.train_seconds() / double(s.steps));
    std::printf("sample (seed %zu, temperature %g):\n%s\n", s.seed, s.temperature, generate(tape, model, text, s).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "char_rnn: error: %s\n", e.what());
    return 1;
  }
}

// ---- The float64 gradient check (--check; not counted)

// A tiny model's gradients against central differences, over two windows
// with the state carried from the first into the second (not detached here,
// so the gradient through the carried state is checked too).
bool check_gradients() {
  Tape<double> tape;
  Rng rng(3);
  Settings tiny;
  tiny.embed = 3, tiny.hidden = 4, tiny.layers = 2;
  CharRnn<double> model(tape, 5, tiny, rng);
  Ids text = Ids::from_shape({14});
  for (auto& c : text) c = std::int64_t(rng() % 5);
  const GradcheckResult r = gradcheck(tape, model.parameters(), [&] {
    const auto [x0, y0] = window(text, 2, 3, 0);
    const auto [x1, y1] = window(text, 2, 3, 1);
    auto [logits0, state] = model.forward(x0);
    return cross_entropy(logits0, y0) + cross_entropy(model.forward(x1, state).first, y1);
  });
  std::printf("gradcheck: %s, %zu parameters, %zu entries, max abs error %.3g\n", r.ok ? "ok" : "FAILED",
              model.parameters().size(), r.entries_checked, r.max_abs_error);
  if (!r.ok) std::printf("%s\n", r.report().c_str());
  return r.ok;
}
