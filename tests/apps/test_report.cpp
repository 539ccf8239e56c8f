// Run reports (--report, train/report.hpp) from every app on small data of
// the test's own: tests/apps/check_report.py validates each notebook with
// nbformat, converts it to HTML with jupyter nbconvert, and finds its
// sections, its images (and their files beside it) and the numbers the run
// printed. A missing gnuplot or a bad --report path stops a run before any
// work.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/apps/app_exe.hpp"      // run_exe
#include "tests/apps/imdb_files.hpp"   // write_reviews
#include "tests/apps/mnist_files.hpp"  // write_mnist_split

namespace {

namespace fs = std::filesystem;
using tg::data::test::TmpDir;
using tg::test::Exe;
using tg::test::run_exe;

// The last number printed right after `label` ("test_acc 0.8125" -> "0.8125").
std::string last_value(const std::string& out, const std::string& label) {
  const std::regex re(label + " ([-+0-9.e]+)");
  std::string value;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it)
    value = (*it)[1];
  INFO(out);
  REQUIRE_FALSE(value.empty());
  return value;
}

// The rest of the line after `start` (or, with `skip`, the line `skip` lines below).
std::string after(const std::string& out, const std::string& start, int skip = 0) {
  auto at = out.find(start);
  INFO(out);
  REQUIRE(at != std::string::npos);
  at += start.size();
  for (int i = 0; i < skip; ++i) at = out.find('\n', at) + 1;
  return out.substr(at, out.find('\n', at) - at);
}

// "6 8 8" -> "6 | 8 | 8 |": a row of a markdown table.
std::string cells(const std::string& words) {
  std::string row;
  std::istringstream in(words);
  for (std::string w; in >> w;) row += w + " | ";
  return row.substr(0, row.size() - 1);
}

// For the shell: 'it'\''s'.
std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// check_report.py on `notebook`: its exit code and what it said.
Exe check(const fs::path& notebook, const std::vector<std::string>& args) {
  std::string line = std::string(TAPEGRAD_SOURCE_DIR) + "/tests/apps/check_report.py " + quote(notebook.string());
  for (const auto& a : args) line += " " + quote(a);
  return run_exe(TAPEGRAD_PYTHON3, line);
}

// What every report has, then `more`.
std::vector<std::string> generic(std::vector<std::string> more) {
  std::vector<std::string> args = {"--section", "## The run", "--section", "## Training log",
                                   "--expect", "The run::tapegrad ", "--expect", "The run::hardware threads"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// Runs `exe args --report DIR/run.ipynb`; requires success and a notebook.
Exe run_with_report(const std::string& exe, const std::string& args, const TmpDir& dir) {
  const Exe r = run_exe(exe, args + " --report " + (dir / "run.ipynb").string());
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  REQUIRE(fs::exists(dir / "run.ipynb"));
  CHECK_THAT(r.out, Catch::Contains("report: " + (dir / "run.ipynb").string()));
  return r;
}

void require_passes(const Exe& checked) {
  INFO(checked.out << checked.err);
  REQUIRE(checked.code == 0);
}

}  // namespace

TEST_CASE("report: mnist_rnn", "[apps][report]") {
  const TmpDir dir;
  std::mt19937 rng(5);
  tg::test::write_mnist_split(dir.path(), "train", 200, rng);
  tg::test::write_mnist_split(dir.path(), "t10k", 50, rng);
  const Exe r = run_with_report(MNIST_RNN_EXE,
                                "--data " + dir.path().string() +
                                    " --quiet --own-data --cell lstm --hidden 16 --batch 10 --steps 20 --eval-every 10",
                                dir);
  const std::string acc = last_value(r.out, "test_acc");
  const std::string predicted = after(r.out, "first 10 test images: predicted "),
                    truth = after(r.out, "                      label     ");
  require_passes(check(
      dir / "run.ipynb",
      generic({"--section", "## Metrics", "--section", "## Curves", "--images", "4", "--figure", "loss", "--figure",
               "acc", "--figure", "digits", "--figure", "confusion", "--expect", "Metrics::" + acc, "--expect",
               "The run::--hidden 16 --batch 10", "--expect", "Training log::test_acc " + acc, "--expect",
               "The task::one row per time step", "--expect", "The model::z_f^t", "--expect",
               "Data and protocol::| training images | 200", "--expect",
               "The first 10 test digits::| predicted | " + cells(predicted), "--expect",
               "The first 10 test digits::| true | " + cells(truth), "--expect",
               "Confusion matrix::test accuracy " + acc})));
  // The checker fails on what is not there.
  CHECK(check(dir / "run.ipynb", {"--section", "## No such section"}).code == 1);
  CHECK(check(dir / "run.ipynb", {"--expect", "Metrics::0.123456789"}).code == 1);
  CHECK(check(dir / "run.ipynb", {"--images", "99"}).code == 1);
  fs::remove(dir / "run.acc.png");
  CHECK(check(dir / "run.ipynb", {}).code == 1);  // a figure's file is missing
}

TEST_CASE("report: imdb_lstm", "[apps][report]") {
  const TmpDir dir;
  const fs::path reviews = tg::test::write_reviews(dir.path(), 200, 3);
  const Exe r = run_with_report(IMDB_LSTM_EXE,
                                "--data " + reviews.string() +
                                    " --protocol --quiet --vocab 100 --maxlen 24 --embed 16 --hidden 16 --batch 16 --epochs 2",
                                dir);
  const std::string acc = last_value(r.out, "test acc"), train_acc = last_value(r.out, "train acc");
  const std::string first_review = after(r.out, "first training review (label ", 1);
  require_passes(check(
      dir / "run.ipynb",
      generic({"--section", "## Metrics", "--images", "2", "--figure", "acc", "--expect", "Metrics::" + acc,
               "--expect", "The model::\\sigma(h_b^T W_o + b_o)", "--expect",
               "Data and protocol::" + last_value(r.out, "vocabulary of") + " ids", "--expect",
               "The first training review::" + first_review, "--expect",
               "Accuracy per epoch::| " + train_acc + " | " + acc + " |", "--expect",
               "Some test reviews::P(positive)"})));
}

TEST_CASE("report: slot_filling", "[apps][report]") {
  const TmpDir dir;
  const Exe r = run_with_report(SLOT_FILLING_EXE,
                                "--quiet --epochs 2 --embed 16 --hidden 24 --bidirectional=false --cell gru --seed 5", dir);
  const std::string f1 = last_value(r.out, "valid_f1"), test_f1 = last_value(r.out, "F1");
  require_passes(check(
      dir / "run.ipynb",
      generic({"--section", "## Metrics", "--images", "2", "--figure", "f1", "--expect", "Metrics::" + f1,
               "--expect", "The model::r^t", "--expect", "The lecture's sentences::| word | I | would | like",
               "--expect", "The lecture's sentences::| word | leave | Taipei", "--expect",
               "The lecture's sentences::Slots found: ", "--expect",
               "Scores per slot type::| **all types** |", "--expect", "Scores per slot type::| " + test_f1 + " |"})));
}

TEST_CASE("report: adding_problem", "[apps][report]") {
  const TmpDir dir;
  const Exe r = run_with_report(
      ADDING_PROBLEM_EXE, "--quiet --length 4 --hidden 4 --steps 30 --eval-every 10 --eval-size 10", dir);
  const std::string mse = last_value(r.out, "eval_mse");
  require_passes(check(
      dir / "run.ipynb",
      generic({"--section", "## Metrics", "--images", "3", "--figure", "mse", "--figure", "cells", "--expect",
               "Metrics::" + mse, "--expect", "The task::y = \\sum", "--expect",
               "The cells compared::| lstm (this run) | " + mse + " |", "--expect", "The cells compared::| gru |",
               "--expect", "The cells compared::| rnn |"})));
}

TEST_CASE("report: lecture_examples", "[apps][report]") {
  const TmpDir dir;
  run_with_report(LECTURE_EXAMPLES_EXE, "", dir);
  require_passes(check(dir / "run.ipynb",
                       generic({"--expect", "Training log::16 16       32 32", "--expect",
                                "The RNN, inputs [1 1], [1 1], [2 2]::| 3 | 2 2 | 16 16 | 32 32 |", "--expect",
                                "The RNN, the inputs in another order::| 3 | 1 1 | 22 22 | 44 44 |", "--expect",
                                "The LSTM memory cell, the slides' nine steps::| 9 | 1 0 1 | 6.000 | 6.000 |",
                                "--expect", "The LSTM memory cell::z_o"})));
}

TEST_CASE("report: a bad path or no gnuplot stops the run before any work", "[apps][report]") {
  const TmpDir dir;
  const std::vector<std::pair<std::string, std::string>> apps = {
      {"mnist_rnn", MNIST_RNN_EXE}, {"imdb_lstm", IMDB_LSTM_EXE}, {"slot_filling", SLOT_FILLING_EXE},
      {"adding_problem", ADDING_PROBLEM_EXE}, {"lecture_examples", LECTURE_EXAMPLES_EXE}};
  const fs::path theirs = dir / "notes.ipynb";
  std::ofstream(theirs) << "{\"cells\": []}\n";
  for (const auto& [name, exe] : apps) {
    INFO(name);
    for (const std::string& path :
         {(dir / "run.txt").string(), std::string("/nonexistent-folder/run.ipynb"), theirs.string()}) {
      INFO(path);
      const Exe r = run_exe(exe, "--report " + path);
      CHECK(r.code == 2);
      CHECK_THAT(r.err, Catch::StartsWith(name + ": error: --report"));
      CHECK(r.out.empty());
    }
    const Exe none = run_exe("PATH=/nonexistent-folder " + exe, "--report " + (dir / "run.ipynb").string());
    CHECK(none.code == 1);
    CHECK_THAT(none.err, Catch::Contains(name + ": error: ") && Catch::Contains("gnuplot-nox"));
    CHECK(none.out.empty());  // nothing ran
    CHECK_FALSE(fs::exists(dir / "run.ipynb"));
  }
  std::ifstream in(theirs);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "{\"cells\": []}\n");
}
