// The adding-problem app: its flags, the evaluation, and the run that trains
// the model of adding_model.hpp through train::Trainer. Everything takes the
// parsed frame as an argument, so the tests run it without the executable.
//
// Training: Adam, batch number s of the run drawn from a generator seeded by
// (--seed, s), gradients clipped to a global norm; every --eval-every steps
// the MSE on a fixed held-out set (the same sequences for every seed and
// cell), beside the MSE of always predicting 1.0 on that set.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "apps/adding_problem/adding_model.hpp"
#include "apps/common/frame.hpp"
#include "apps/common/session.hpp"

namespace tg::adding {

// The sequences are fresh at every step: there is no dataset to go through
// once. An "epoch" is this many batches, a unit for --epochs, the epoch
// column of the log and the metrics, and --eval-every 0 (evaluate at each
// epoch end). It is fixed, so no flag changes it between a run and its resume.
constexpr std::size_t kBatchesPerEpoch = 1000;

// The app's own settings (the shared ones are in app::TrainingFlags); the
// defaults are the tutorial's runs.
struct Settings {
  std::string cell = "lstm";     // rnn | lstm | gru
  std::size_t length = 50;       // steps per sequence T
  std::size_t hidden = 64;
  std::size_t batch = 50;
  double lr = 3e-3;
  std::size_t eval_size = 1000;  // held-out sequences
  // With --report: the other cells trained too, for the report's comparison
  // of their curves: all (the two other cells), none, or a list (rnn,gru).
  std::string compare = "all";
};

// Registers the app's flags and the shared ones (defaults: 2000 steps,
// evaluation every 250, clip 1.0) on `frame`. There is no --data: the app
// makes its data.
void add_flags(app::Frame& frame, Settings& settings);

// Estimates the run's memory from the settings (apps/common/memory_budget.hpp;
// with --report, the --compare cells' too) and throws app::UsageError when it
// exceeds --max-memory or, by default, the memory available
// (adding_memory.cpp). Called before anything is allocated.
void check_memory(const Settings& settings, const app::Frame& frame);

// The held-out set: `count` sequences from a fixed seed, the same whatever
// --seed is, so runs can be compared.
Batch<float> held_out_set(std::size_t length, std::size_t count);

struct Evaluation {
  double mse = 0;       // of the model on the held-out set
  double baseline = 0;  // of always predicting 1.0 on the same set (about 1/6)
};

// Forward only, under no_grad; the tape is cleared afterwards.
Evaluation evaluate(const AddingModel<float>& model, Tape<float>& tape, const Batch<float>& set);

struct RunResult : app::RunInfo {  // steps, rows (one per evaluation), times
  Evaluation final;                 // after the last step
};

// Builds the model (settings already restored from a --load checkpoint by the
// frame), trains to the end the flags set (or only evaluates, with
// --eval-only) and logs to `log` (nullptr: silent). Throws tg::Error on a bad
// checkpoint, train::TrainingError when training goes non-finite.
RunResult run(const Settings& settings, const app::Frame& frame, std::FILE* log);

// The report's sections (--report): the task, the model, the protocol, and
// the held-out MSE of the cells compared: the cells of --compare are trained
// (silently, same settings, seed and schedule, from scratch) and drawn beside
// this run's curve.
void add_report(train::Report& report, const Settings& settings, const app::Frame& frame, const RunResult& result);

}  // namespace tg::adding
