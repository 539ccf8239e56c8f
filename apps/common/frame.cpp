#include "apps/common/frame.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <utility>

#include <fmt/core.h>

#include <tapegrad/autograd/profiler.hpp>
#include <tapegrad/backend/blas.hpp>
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/io/atomic_file.hpp>
#include <tapegrad/layers/torch_io.hpp>
#include <tapegrad/parallel/comm.hpp>

#include "apps/common/cli.hpp"
#include "apps/common/main.hpp"

namespace tg::app {
namespace {

// Equal as numbers when both are numbers ("1e-3" == "0.001000"), else as text.
bool same_value(const std::string& a, const std::string& b) {
  double x, y;
  if (parse_number(a, &x) && parse_number(b, &y)) return x == y;
  return a == b;
}

const std::set<std::string> kShared = {"--help", "--data", "--save", "--load", "--metrics",
                                       "--threads", "--steps", "--epochs", "--eval-every",
                                       "--eval-only", "--quiet", "--allow-changes",
                                       "--detect-anomaly", "--profile", "--profile-csv", "--report",
                                       "--export-torch"};

// The tee behind Frame::out(): what the app prints goes to stdout and to the log.
ssize_t tee_write(void* log, const char* buf, std::size_t n) {
  std::fwrite(buf, 1, n, stdout);
  std::fflush(stdout);
  static_cast<std::string*>(log)->append(buf, n);
  return ssize_t(n);
}

}  // namespace

Frame::Frame(std::string program, std::string summary, std::string examples)
    : program_(std::move(program)), cli_(summary, program_),
      report_(std::make_unique<train::Report>(program_, summary)) {
  cli_.formatter(help_formatter());
  // A flag given twice: the last one wins, as in most command-line tools.
  cli_.option_defaults()->always_capture_default()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string footer;
  if (!examples.empty()) footer += "examples:\n" + examples + "\n";
  footer += "exit codes: 0 success, 1 failure while running (data, checkpoint, a\n"
            "non-finite loss), 2 usage (a flag out of range, a checkpoint of other\n"
            "settings). Shared flags: docs/apps.md.";
  cli_.footer(footer);
}

void Frame::open_report() {
  check_report_path();
  train::find_gnuplot();  // a missing tool stops the run now, not after training (exit 1)
  out_ = fopencookie(&log_, "w", cookie_io_functions_t{nullptr, tee_write, nullptr, nullptr});
  if (!out_) throw Error("--report: cannot keep the log");
  std::setvbuf(out_, nullptr, _IOLBF, 0);
}

void Frame::finish() {
  if (report_path_.empty() || parallel::rank() != 0) return;
  std::fflush(out_);
  report_->set_log(log_);
  report_->set_run(train::RunInfo::here(command_, has_training_flags_ ? std::to_string(flags_.seed) : "",
                                        flags_.threads, train::seconds_since(start_)));
  report_->write(report_path_);
  fmt::print("report: {} (figures beside it as {}.<name>.png)\n", report_path_,
             report_path_.substr(0, report_path_.size() - 6));
}

Frame::~Frame() {
  if (out_) std::fclose(out_);
}

void Frame::add_preset(const std::string& flag, const std::string& help,
                       std::vector<std::pair<std::string, std::string>> values) {
  cli_.add_flag(flag, help);
  presets_.push_back({flag, std::move(values)});
}

void Frame::apply_presets() {
  for (const Preset& p : presets_) {
    if (!given(p.flag)) continue;
    for (const auto& [name, value] : p.values) {
      CLI::Option* opt = cli_.get_option(name);
      if (opt->count() > 0) continue;  // given beside the preset: it wins
      opt->add_result(value);
      opt->run_callback();
    }
  }
}

bool Frame::given(const std::string& option) const {
  const CLI::Option* opt = cli_.get_option_no_throw(option);
  return opt && opt->count() > 0;
}

std::string Frame::value_of(const CLI::Option& opt) const {
  // A flag (CLI11 gives flags expected 0, type size 1): what it parses to,
  // "--mask" or a "false" restored from a checkpoint alike.
  if (opt.get_expected_min() == 0) {
    if (opt.count() > 0) return opt.as<bool>() ? "true" : "false";
    const std::string d = opt.get_default_str();
    return d == "true" || d == "1" ? "true" : "false";
  }
  if (opt.count() == 0) return opt.get_default_str();
  std::string v;  // after the multi-option policy: an option given twice is its last value
  for (const auto& r : opt.reduced_results()) v += (v.empty() ? "" : ",") + r;
  return v;
}

nlohmann::json Frame::meta() const {
  nlohmann::json config = nlohmann::json::object();
  for (const CLI::Option* opt : cli_.get_options())
    if (opt->get_name() != "--help" && !kShared.count(opt->get_name()) && !free_.count(opt->get_name()))
      config[opt->get_name()] = value_of(*opt);
  config["--seed"] = std::to_string(flags_.seed);
  config["--clip"] = value_of(*cli_.get_option("--clip"));
  return {{"app", program_}, {"config", config}};
}

void Frame::apply_checkpoint_settings() {
  const std::string& path = flags_.load;
  loaded_ = ckpt::read_meta(path);
  const std::string app = loaded_.value("app", std::string());
  if (app != program_)
    throw UsageError("--load '" + path + "' is a checkpoint of " + (app.empty() ? "another program" : app) +
                     ", not of " + program_);
  const nlohmann::json config = loaded_.value("config", nlohmann::json::object());
  for (CLI::Option* opt : cli_.get_options()) {
    const std::string name = opt->get_name();
    if (name == "--seed" || name == "--clip" || (!kShared.count(name) && !free_.count(name))) {
      if (!config.contains(name) || !config[name].is_string()) continue;
      const std::string saved = config[name].get<std::string>();
      if (opt->count() > 0) {
        if (!same_value(value_of(*opt), saved) && !flags_.allow_changes)
          throw UsageError(name + " " + value_of(*opt) + " differs from the checkpoint's " + saved + " ('" +
                           path + "'); leave the flag out to use the checkpoint's, or pass --allow-changes");
        continue;
      }
      try {
        opt->clear();
        opt->add_result(saved);
        opt->run_callback();  // validates it as if given on the command line
      } catch (const CLI::ParseError& e) {
        throw Error("'" + path + "': its setting " + name + " " + saved + " is invalid: " + e.what());
      }
    }
  }
}

void Frame::parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) command_ += (i ? " " : "") + shell_word(argv[i]);
  try {
    cli_.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(help().c_str(), stdout);
    throw ExitNow{0};
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  apply_presets();
  if (!report_path_.empty()) open_report();
  if (!has_training_flags_) return;
  if (flags_.eval_only && flags_.load.empty()) throw UsageError("--eval-only needs --load CHECKPOINT");
  if (flags_.steps == 0 && flags_.epochs == 0) throw UsageError("give --steps or --epochs (at least 1)");
  check_outputs();
  if (!flags_.load.empty()) apply_checkpoint_settings();
  blas::set_num_threads(flags_.threads);
  if (flags_.profile || !flags_.profile_csv.empty()) profiler::enable(true);
}

train::Options Frame::trainer_options(std::size_t batches_per_epoch) const {
  train::Options o;
  o.batches_per_epoch = batches_per_epoch;
  o.steps = flags_.steps;
  o.epochs = flags_.epochs;
  o.eval_every = flags_.eval_every;
  o.clip = flags_.clip;
  o.save = flags_.save;
  o.metrics = flags_.metrics;
  o.progress = !flags_.quiet;
  o.detect_anomaly = flags_.detect_anomaly;
  o.profile_csv = flags_.profile_csv;
  o.meta = meta();
  return o;
}

void Frame::export_model(const Module<float>& model, std::FILE* log) const {
  const std::string& path = flags_.export_torch;
  if (path.empty() || parallel::rank() != 0) return;  // under mpirun, rank 0 writes
  const TorchState<float> state = torch_state(model);
  export_torch(path, model);
  if (log) {
    std::string modules;
    for (const auto& [name, call] : state.modules)
      modules += (modules.empty() ? "" : ", ") + name + " = " + call;
    fmt::print(log, "exported the model for PyTorch to {}: {} tensors; {}\n", path,
               state.parameters.size(), modules);
  }
}

std::string Frame::help() const { return cli_.help(); }

}  // namespace tg::app
