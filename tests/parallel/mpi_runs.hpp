// What the tests of the apps under `mpirun -np 2` compare: the lines a run
// printed, the weights of two checkpoints, the columns of a metrics CSV; and
// Runs, one app's run on 2 ranks beside the same run in 1 process.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/io/safetensors.hpp>
#include "tests/apps/app_exe.hpp"     // run_exe
#include "tests/datasets/tmpdir.hpp"  // TmpDir, read_file

namespace tg::test {

// How often `what` occurs in `text`.
inline std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The largest difference between the two checkpoints' float weights, after
// checking they hold the same tensors.
inline double max_weight_diff(const std::string& a, const std::string& b) {
  const Checkpoint x = load_safetensors(a), y = load_safetensors(b);
  REQUIRE(x.tensors.size() == y.tensors.size());
  double d = 0;
  for (const auto& [name, t] : x.tensors) {
    REQUIRE(y.tensors.count(name));
    const auto& u = y.tensors.at(name);
    REQUIRE(t.shape == u.shape);
    REQUIRE(t.dtype == u.dtype);
    REQUIRE(t.bytes.size() == u.bytes.size());
    const float* p = reinterpret_cast<const float*>(t.bytes.data());
    const float* q = reinterpret_cast<const float*>(u.bytes.data());
    for (std::size_t i = 0; i < t.bytes.size() / sizeof(float); ++i)
      d = std::max(d, double(std::abs(p[i] - q[i])));
  }
  return d;
}

// Column `column` (from 0) of a metrics CSV, its header skipped: 2 is the
// training loss.
inline std::vector<double> csv_column(const std::string& csv, int column) {
  std::istringstream in(data::test::read_file(csv));
  std::vector<double> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    for (int i = 0; i <= column; ++i) std::getline(row, cell, ',');
    out.push_back(std::stod(cell));
  }
  return out;
}

// An app's run on 2 ranks (files two.*) and the same in 1 process (one.*).
struct Runs {
  using Flags = std::function<std::string(const std::string&)>;
  Runs(std::string np2, std::string one, Flags flags)
      : np2(std::move(np2)), one(std::move(one)), flags(std::move(flags)) {}

  std::string np2, one;  // the command lines of the app on 2 ranks and alone
  Flags flags;           // the run's flags, then these
  data::test::TmpDir dir;

  std::string path(const std::string& name) const { return (dir / name).string(); }

  // `steps` steps on 2 ranks, saving two.st and two.csv, then in 1 process
  // (one.st, one.csv); returns what the 2 ranks printed.
  Exe train(std::size_t steps) const {
    const std::string more = "--steps " + std::to_string(steps) + " --save ";
    Exe two = run_exe(np2, flags(more + path("two.st") + " --metrics " + path("two.csv")));
    INFO(two.out + two.err);
    REQUIRE(two.code == 0);
    const Exe alone = run_exe(one, flags(more + path("one.st") + " --metrics " + path("one.csv")));
    INFO(alone.out + alone.err);
    REQUIRE(alone.code == 0);
    return two;
  }

  // The two checkpoints hold the same settings and Trainer state and their
  // weights differ by less than `tolerance`; the CSVs' `columns` agree to
  // 1e-4. Returns the largest weight difference.
  double check_same(const std::vector<int>& columns, double tolerance) const {
    CHECK(ckpt::read_meta(path("two.st")) == ckpt::read_meta(path("one.st")));
    const double diff = max_weight_diff(path("two.st"), path("one.st"));
    CHECK(diff < tolerance);
    for (int column : columns) {
      const std::vector<double> a = csv_column(path("two.csv"), column), b = csv_column(path("one.csv"), column);
      REQUIRE(a.size() == b.size());
      REQUIRE(!a.empty());
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-4));
    }
    return diff;
  }

  // two.st trained on to step `to` in 1 process, one.st on 2 ranks: both
  // say they continue from `from`, and end the same.
  void resume_across(std::size_t from, std::size_t to, double tolerance) const {
    const std::string steps = "steps " + std::to_string(from + 1) + ".." + std::to_string(to);
    const std::string more = "--steps " + std::to_string(to) + " --load ";
    const Exe on_one = run_exe(one, flags(more + path("two.st") + " --save " + path("two.st")));
    INFO(on_one.out + on_one.err);
    CHECK(on_one.code == 0);
    CHECK(count(on_one.out, steps) == 1);
    const Exe on_two = run_exe(np2, flags(more + path("one.st") + " --save " + path("one.st")));
    INFO(on_two.out + on_two.err);
    CHECK(on_two.code == 0);
    CHECK(count(on_two.out, steps) == 1);
    CHECK(ckpt::read_meta(path("two.st")).at("trainer").at("step") == to);
    CHECK(ckpt::read_meta(path("two.st")) == ckpt::read_meta(path("one.st")));
    CHECK(max_weight_diff(path("two.st"), path("one.st")) < tolerance);
  }
};

}  // namespace tg::test
