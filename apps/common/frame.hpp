// The frame every app stands on: CLI11 parsing with help wrapped at 80
// columns, the shared flags (spelled and meaning the same in every app),
// checks of every output before any work, settings restored from and checked
// against a checkpoint, and one main() that maps errors to exit codes:
//
//   0 success   1 failure while running (data, checkpoint, non-finite loss)
//   2 usage (a flag out of range, a checkpoint of other settings)
//
// Errors print as "prog: error: message". An app's main() is app::main
// (apps/common/main.hpp), its run a Session (apps/common/session.hpp):
//
//   add_flags:  frame.cli().add_option("--cell", c.cell, "...")->check(...);
//               frame.add_training_flags(defaults);
//   run:        ...load data, build the model, Session(frame, ...).fit(...);
//               the report's sections to frame.report()...
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/layers/module.hpp>
#include <tapegrad/train/report.hpp>
#include <tapegrad/train/trainer.hpp>

namespace tg::app {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// A command line that parses but makes no sense: exit code 2.
struct UsageError : Error {
  using Error::Error;
};

// The shared flags. Defaults are the app's protocol; the meaning is the same
// everywhere (see docs/apps.md).
struct TrainingFlags {
  std::string data;          // --data DIR: the dataset folder (default: the app's)
  std::string save;          // --save PATH: checkpoint at every evaluation
  std::string load;          // --load PATH: start from this checkpoint, train on
  std::string metrics;       // --metrics PATH: CSV, one row per evaluation
  std::uint64_t seed = 1;    // --seed N
  int threads = 1;           // --threads N: BLAS threads
  double clip = 0;           // --clip X: global gradient norm; 0 off
  std::size_t steps = 0;     // --steps N: end of the run in steps (0: use --epochs)
  std::size_t epochs = 0;    // --epochs N: end of the run in epochs
  std::size_t eval_every = 0;  // --eval-every N steps (0: each epoch end)
  bool eval_only = false;    // --eval-only: evaluate the --load checkpoint, no training
  bool quiet = false;        // --quiet: no progress line
  bool allow_changes = false;  // --allow-changes: resume with other settings
  bool detect_anomaly = false; // --detect-anomaly: name the op that makes a NaN/Inf
  bool profile = false;        // --profile: the op profiler's table at the end
  std::string profile_csv;     // --profile-csv PATH: and its CSV
  std::string export_torch;    // --export-torch PATH: the model as a PyTorch state_dict at the end
  std::string max_memory;      // --max-memory SIZE: refuse a run estimated larger (default: MemAvailable)
};

// Valid values of numeric flags (CLI11 validators): finite and in range.
CLI::Validator finite_range(double lo, double hi);
CLI::Validator at_least(double lo);  // finite and >= lo

class Frame {
 public:
  // `examples`: lines for the help's examples section.
  Frame(std::string program, std::string summary, std::string examples = "");

  CLI::App& cli() { return cli_; }
  const std::string& program() const { return program_; }

  // Adds the shared training flags with these defaults, and --report.
  void add_training_flags(const TrainingFlags& defaults);
  // --report PATH: a notebook of the run (train/report.hpp), written by
  // finish(); the path and gnuplot are checked by parse().
  void add_report_flag();
  const TrainingFlags& flags() const { return flags_; }
  // A file the app writes beside the --save checkpoint, PATH + `suffix`
  // (imdb_lstm's PATH.vocab), named `kind` in errors ("vocabulary"). parse()
  // checks it with the other outputs: a file already there is replaced only
  // when `read` (which throws tg::Error otherwise) takes it for one.
  void add_save_sidecar(std::string suffix, std::string kind, std::function<void(const std::string&)> read);
  // A bare flag that stands for other options' values (imdb_lstm's
  // --protocol): when given, parse() sets each option of `values` that was
  // not given itself as if it had been, before the --load checkpoint's
  // settings are compared (a checkpoint of other settings is then a usage
  // error, as for any flag given).
  void add_preset(const std::string& flag, const std::string& help,
                  std::vector<std::pair<std::string, std::string>> values);
  // Options that may differ between a checkpoint and a run resumed from it
  // (the shared ones that do not define the run are already free).
  void free_on_resume(const std::string& option) { free_.insert(option); }

  // Parses; --help prints the help and exits 0. Then: --eval-only needs
  // --load; every output (--save, --metrics, --export-torch, --profile-csv)
  // is checked writable, apart from the others and from --load, and, when it
  // exists, to be a file of its kind (sidecars too); with --load, the checkpoint's settings fill the
  // options not given, and a given one that differs is a UsageError (unless
  // --allow-changes). Sets the BLAS threads.
  void parse(int argc, char** argv);
  bool given(const std::string& option) const;

  // {"app": program, "config": {option: value}} for checkpoints.
  nlohmann::json meta() const;
  // The checkpoint's metadata (after parse, with --load), else empty.
  const nlohmann::json& loaded_meta() const { return loaded_; }

  // Trainer options from the shared flags: end, evaluation, clip, save,
  // metrics, progress, meta.
  train::Options trainer_options(std::size_t batches_per_epoch) const;

  // --export-torch PATH: writes `model` (the trained one, or the one loaded
  // with --load) as a PyTorch state_dict through tg::export_torch
  // (layers/torch_io.hpp; atomically) and says so on `log` (nullptr:
  // silent). Nothing without the flag, nor on other ranks than 0 under
  // mpirun. Apps call it once the run is over.
  void export_model(const Module<float>& model, std::FILE* log) const;

  std::string help() const;

  // Where the app prints its log: stdout, also kept (with --report) as the
  // report's training log.
  std::FILE* out() const { return out_ ? out_ : stdout; }
  // The report of this run: apps add their sections as they go (a const
  // frame too); written only with --report.
  train::Report& report() const { return *report_; }
  bool reporting() const { return !report_path_.empty(); }
  // The end of a run that succeeded: with --report, writes the notebook and
  // its figures (rank 0 alone under mpirun).
  void finish();
  ~Frame();

 private:
  struct Sidecar {
    std::string suffix, kind;
    std::function<void(const std::string&)> read;
  };
  void open_report();
  void check_report_path() const;
  void check_outputs() const;
  void check_output_paths() const;
  void check_outputs_apart() const;
  void apply_checkpoint_settings();
  std::string value_of(const CLI::Option& opt) const;

  std::string program_;
  CLI::App cli_;
  TrainingFlags flags_;
  bool has_training_flags_ = false;
  std::set<std::string> free_;
  std::vector<Sidecar> sidecars_;
  struct Preset {
    std::string flag;
    std::vector<std::pair<std::string, std::string>> values;
  };
  std::vector<Preset> presets_;
  void apply_presets();
  nlohmann::json loaded_ = nlohmann::json::object();
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::string command_, report_path_, log_;
  std::unique_ptr<train::Report> report_;
  std::FILE* out_ = nullptr;  // stdout and log_, with --report
};

}  // namespace tg::app
