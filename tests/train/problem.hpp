// The Trainer tests' problem: a Linear layer with dropout learning a linear
// map, 8 batches of 4 per epoch; and files in a scratch directory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <xtensor/xview.hpp>

#include <tapegrad/layers/linear.hpp>
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/train/trainer.hpp>

namespace tg::test {

namespace fs = std::filesystem;

inline fs::path temp_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("tg_trainer_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The CSV without its last column (training time differs between runs).
inline std::string without_time(const std::string& csv) {
  std::istringstream in(csv);
  std::string out;
  for (std::string line; std::getline(in, line);) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

// y = x A + noise, learnt by a Linear layer with dropout on its input (so the
// Trainer's rng matters), 8 batches of 4 per epoch, chosen by (epoch, index).
struct Problem {
  Tape<double> tape;
  Rng init{7};
  Linear<double> model{tape, 3, 2, init};
  Adam<double> adam{model.parameters(), 0.05};
  Tensor<double> x = uniform<double>({32, 3}, -1, 1, init);
  Tensor<double> y = Tensor<double>(xt::eval(xt::view(x, xt::all(), xt::range(0, 2)) * 2.0 - 1.0));

  train::Options options(std::size_t steps, const std::string& save, const std::string& metrics) {
    train::Options o;
    o.batches_per_epoch = 8;
    o.steps = steps;
    o.eval_every = 3;
    o.clip = 1.0;
    o.save = save;
    o.metrics = metrics;
    o.progress = false;
    o.log = nullptr;
    o.meta = {{"app", "test"}};
    return o;
  }
  Var<double> loss(const train::Batch& b, Rng& rng) {
    const std::size_t first = ((b.index * 5 + b.epoch * 3) % 8) * 4;  // varies with the epoch
    Tensor<double> xb = xt::view(x, xt::range(first, first + 4), xt::all());
    Tensor<double> yb = xt::view(y, xt::range(first, first + 4), xt::all());
    Var<double> in = dropout(tape.constant(xb), 0.2, true, rng);
    return mse(model(in), tape.constant(yb));
  }
  train::Metrics evaluate() {
    auto no_grad = tape.no_grad();
    const double l = mse(model(tape.constant(x)), tape.constant(y)).item();
    tape.clear();
    return {{"full_loss", l}};
  }
  const std::vector<train::Row>& fit(train::Trainer<double>& t) {
    return t.fit([&](const train::Batch& b) { return loss(b, t.rng()); }, [&] { return evaluate(); });
  }
};

}  // namespace tg::test
