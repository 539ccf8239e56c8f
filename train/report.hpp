// The report of a training run as a Jupyter notebook (nbformat 4.5): the
// form in which the lecture's assignments are handed in. Nothing is executed
// to read it: every output (the log, tables, figures) is stored in the
// notebook, and every figure is also written as a PNG file beside it.
//
// The notebook reads, in this order:
//   # title
//   what the run is          describe(): the task, the model, the data, the protocol
//   ## The run               command line, version, machine, seed, wall time
//   ## Training log          the log as the run printed it
//   ## Metrics               one row per evaluation of the Trainer's history
//   ## Curves                loss and each metric against step (or epoch)
//   the app's own sections   markdown(), text(), table(), figure(), in order
//
// A model of your own writes one the way the apps do:
//
//   train::Report report("my model", "An LSTM on my data.");
//   trainer.fit(...);
//   report.training(trainer);                  // the history: table and curves
//   report.set_run(train::RunInfo::here(cmd, seed, wall_seconds));
//   report.write("run.ipynb");                 // + run.loss.png, run.acc.png, ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/train/plot.hpp>
#include <tapegrad/train/trainer.hpp>

namespace tg::train {

// tapegrad's version: `git describe` of the source the binary was built
// from, or the project's version outside a clone.
const char* version();

// Where and how a run ran.
struct RunInfo {
  std::string command;        // as typed (arguments quoted for a shell)
  std::string seed;           // "" when the program has none
  int threads = 1;            // BLAS threads
  double wall_seconds = 0;    // from the start of the program to the report
  std::string version;        // version()
  std::string cpu;            // the CPU model (/proc/cpuinfo)
  unsigned hardware_threads = 0;
  std::string finished;       // UTC, ISO 8601
  // The above, with this machine's version, CPU, threads and time.
  static RunInfo here(std::string command, std::string seed, int threads, double wall_seconds);
};

class Report {
 public:
  // `title`: e.g. the program; `summary`: a paragraph under it.
  Report(std::string title, std::string summary);

  // Markdown under the title: what the task, the model, the data and the
  // protocol are (equations in LaTeX, $...$ and $$...$$).
  void describe(const std::string& markdown);
  void set_run(const RunInfo& run) { run_ = run; has_run_ = true; }
  void set_log(std::string text) { log_ = std::move(text); }

  // The history: a table of every row, and a figure per kind of value (the
  // loss; each metric named <split>_<kind>, e.g. train_acc and test_acc on one
  // figure) against the step, or the epoch when every row ends one.
  void history(const std::vector<Row>& rows, std::size_t batches_per_epoch);
  // Draws metric `name` on the figure of `kind` instead of one of its own
  // (the adding problem's "baseline" on the "mse" figure).
  void plot_with(const std::string& name, const std::string& kind) { plot_with_.emplace_back(name, kind); }
  template <class T>
  void training(Trainer<T>& trainer) {
    history(trainer.history(), trainer.options().batches_per_epoch);
  }

  // The app's sections, shown after the curves in the order added.
  void markdown(const std::string& text);
  // Text as a cell's output (monospace), under a line of markdown.
  void text(const std::string& caption, const std::string& output);
  // A markdown table; `caption` is markdown above it.
  void table(const std::string& caption, const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows);
  // A figure (PNG output, and REPORT.<name>.png beside the notebook) with
  // markdown that says what it shows.
  void figure(const Figure& figure, const std::string& caption);

  // Draws the figures (gnuplot: see find_gnuplot()) and writes them beside
  // `path` and the notebook at `path` as one unit, the notebook last and
  // listing each figure's sha256 (train/report_files.hpp). Throws tg::Error,
  // also when a file in the way is not an earlier report's.
  void write(const std::string& path) const;

 private:
  struct Item {
    enum Kind { Markdown, Text, Image } kind;
    std::string markdown, text;
    Figure figure;
  };
  std::vector<Item> curves() const;

  std::string title_, summary_;
  std::vector<std::string> description_;
  RunInfo run_;
  bool has_run_ = false;
  std::string log_;
  std::vector<Row> rows_;
  std::vector<std::pair<std::string, std::string>> plot_with_;
  std::size_t batches_per_epoch_ = 0;
  std::vector<Item> items_;
};

// A markdown table from a header and rows (cells' '|' escaped).
std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// Standard base64 of `bytes` (images in the notebook).
std::string base64(const std::string& bytes);

}  // namespace tg::train
