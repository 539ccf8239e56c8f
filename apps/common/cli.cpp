// The command line's text and checks, shared by every app: help wrapped at
// 80 columns with each option on a line of its own, validators that name
// the bad value, and the shared training flags (docs/apps.md).
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <sstream>

#include <fmt/core.h>

#include "apps/common/cli.hpp"
#include "apps/common/frame.hpp"
#include "apps/common/memory_budget.hpp"

namespace tg::app {
namespace {

constexpr std::size_t kWidth = 80;

// Words of `text` in lines of at most `width` columns after `indent` spaces;
// a newline in `text` starts a new line.
std::string wrap(const std::string& text, std::size_t indent, std::size_t width = kWidth) {
  std::string out, line;
  std::istringstream paragraphs(text);
  for (std::string para; std::getline(paragraphs, para);) {
    std::istringstream words(para);
    line.clear();
    for (std::string w; words >> w;) {
      if (!line.empty() && indent + line.size() + 1 + w.size() > width) {
        out += std::string(indent, ' ') + line + "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + w;
    }
    out += std::string(indent, ' ') + line + "\n";
  }
  return out;
}

// Each option on a line of its own, its description wrapped below it.
class Formatter : public CLI::Formatter {
 public:
  std::string make_option(const CLI::Option* opt, bool positional) const override {
    std::string head = "  " + make_option_name(opt, positional) + make_option_opts(opt);
    return head + "\n" + wrap(make_option_desc(opt), 6);
  }
  std::string make_description(const CLI::App* app) const override {
    return wrap(app->get_description(), 0) + "\n";
  }
  std::string make_usage(const CLI::App* app, std::string name) const override {
    (void)app;
    return "usage: " + name + " [options]\n\n";
  }
};

}  // namespace

std::shared_ptr<CLI::Formatter> help_formatter() { return std::make_shared<Formatter>(); }

bool parse_number(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

namespace {

// --seed: a whole number that fits 64 bits (CLI11 would wrap "-1" and
// saturate 2^64 to 2^64 - 1 without a word).
CLI::Validator seed_range() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos)
          return "must be a whole number in [0, 2^64 - 1], got " + s;
        errno = 0;
        std::strtoull(s.c_str(), nullptr, 10);
        if (errno == ERANGE) return "must be at most 2^64 - 1, got " + s;
        return "";
      },
      "in [0, 2^64 - 1]");
}

}  // namespace

// An argument as a shell reads it back.
std::string shell_word(const std::string& a) {
  if (!a.empty() && a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+-@%") ==
                        std::string::npos)
    return a;
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}


CLI::Validator finite_range(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        double v;
        if (!parse_number(s, &v)) return "'" + s + "' is not a number";
        if (!std::isfinite(v)) return "must be finite, got " + s;
        if (v < lo || v > hi) return fmt::format("must be in [{:g}, {:g}], got {}", lo, hi, s);
        return "";
      },
      fmt::format("in [{:g}, {:g}]", lo, hi));
}

CLI::Validator at_least(double lo) {
  return CLI::Validator(
      [lo](std::string& s) -> std::string {
        double v;
        if (!parse_number(s, &v)) return "'" + s + "' is not a number";
        if (!std::isfinite(v)) return "must be finite, got " + s;
        if (v < lo) return fmt::format("must be at least {:g}, got {}", lo, s);
        return "";
      },
      fmt::format(">= {:g}", lo));
}


void Frame::add_training_flags(const TrainingFlags& d) {
  flags_ = d;
  has_training_flags_ = true;
  CLI::App& c = cli_;
  c.add_option("--data", flags_.data, "dataset folder" + (d.data.empty() ? std::string(" (default: the app's)") : ""));
  c.add_option("--seed", flags_.seed, "seed of the initial weights, the batch order and dropout")
      ->check(seed_range());
  c.add_option("--threads", flags_.threads, "BLAS threads (our own code runs on one)")
      ->check(finite_range(1, 256));
  c.add_option("--steps", flags_.steps, "end the run at this step (0: use --epochs)")
      ->check(finite_range(0, 1e9));
  c.add_option("--epochs", flags_.epochs, "end the run after this many epochs")
      ->check(finite_range(0, 1e6));
  c.add_option("--eval-every", flags_.eval_every, "evaluate every N steps (0: at each epoch end)")
      ->check(finite_range(0, 1e9));
  c.add_option("--clip", flags_.clip, "clip gradients to this global L2 norm (0: off)")
      ->check(finite_range(0, 1e6));
  c.add_option("--save", flags_.save, "checkpoint written at every evaluation (weights, optimizer, settings, position)");
  c.add_option("--load", flags_.load,
               "start from this checkpoint: its settings fill the flags not given, "
               "training continues to --steps/--epochs (a resumed run ends where the "
               "uninterrupted one would)");
  c.add_flag("--eval-only", flags_.eval_only, "with --load: evaluate the checkpoint, train nothing");
  c.add_option("--metrics", flags_.metrics, "CSV of step, epoch, loss, the evaluation's metrics, train_seconds; appended to on resume");
  c.add_flag("--quiet", flags_.quiet, "no progress line on stderr");
  c.add_flag("--allow-changes", flags_.allow_changes,
             "with --load: accept settings that differ from the checkpoint's (e.g. another --lr)");
  c.add_flag("--detect-anomaly", flags_.detect_anomaly,
             "check every op's result and gradient for NaN/Inf and name the op that made one "
             "(slower; for debugging)");
  c.add_flag("--profile", flags_.profile,
             "time every op of the training steps (forward, backward, bytes made) and print "
             "the table at the end (also: TAPEGRAD_PROFILE=1)");
  c.add_option("--profile-csv", flags_.profile_csv, "with --profile: also write the table as CSV here");
  c.add_option("--export-torch", flags_.export_torch,
               "at the end, write the model (trained, or the --load checkpoint's) as a PyTorch "
               "state_dict in a safetensors file: load_state_dict(strict=True) reads it "
               "(docs/checkpoints.md)");
  c.add_option("--max-memory", flags_.max_memory,
               "refuse to start a run whose memory, estimated from the model's shape, the batch and "
               "the sequence lengths, exceeds this size (e.g. 8G, 512M; 0: no limit; default: the "
               "memory available, MemAvailable in /proc/meminfo)")
      ->check(memory_size());
  free_.insert("--max-memory");  // a limit of this machine, not a setting of the run
  add_report_flag();
}

void Frame::add_report_flag() {
  cli_.add_option("--report", report_path_,
                  "at the end, write a report of the run here: a Jupyter notebook (.ipynb) with the "
                  "command, machine, log, metrics and figures, and each figure as PATH.<name>.png "
                  "beside it (needs gnuplot)");
}

}  // namespace tg::app
