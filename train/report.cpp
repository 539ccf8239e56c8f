#include <tapegrad/train/report.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <tapegrad/datasets/sha256.hpp>
#include <tapegrad/train/report_files.hpp>

namespace tg::train {
namespace {

using Json = nlohmann::json;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      std::string m = line.substr(line.find(':') + 1);
      return m.substr(m.find_first_not_of(' '));
    }
  return "unknown CPU";
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// "test_acc" -> {"acc", "test"}; "accuracy" -> {"accuracy", "accuracy"}.
std::pair<std::string, std::string> kind_and_split(const std::string& name) {
  const auto u = name.find('_');
  if (u == std::string::npos || u + 1 == name.size()) return {name, name};
  return {name.substr(u + 1), name.substr(0, u)};
}

struct KindText {
  std::string axis, meaning;
  bool log_y;
};

KindText kind_text(const std::string& kind) {
  if (kind == "loss")
    return {"loss",
            "The training loss (**train**: its mean over the steps since the previous evaluation) and the "
            "losses the evaluation measures. Falling together is learning; a held-out loss that rises while "
            "the training loss falls is overfitting. Other lines are named after their metric (test_loss: "
            "test). A log scale when the values span more than a factor of 10.",
            true};
  if (kind == "acc" || kind == "accuracy")
    return {"accuracy",
            "Accuracy, the fraction of examples whose predicted class is the true one, on each split the "
            "evaluation measures. Chance is one over the number of classes; train well above test is "
            "overfitting.",
            false};
  if (kind == "f1")
    return {"F1", "F1, the harmonic mean of precision and recall, on each split the evaluation scores.", false};
  if (kind == "mse")
    return {"mean squared error",
            "Mean squared error of the predictions on each split the evaluation measures: lower is better. "
            "A log scale when the values span more than a factor of 10.",
            true};
  return {kind, "The evaluation's " + kind + " on each split it measures.", false};
}

std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ? c : '_';
  return out;
}

std::string stem_of(const std::string& path) {
  const std::string ext = ".ipynb";
  return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0
             ? path.substr(0, path.size() - ext.size())
             : path;
}

}  // namespace

RunInfo RunInfo::here(std::string command, std::string seed, int threads, double wall_seconds) {
  RunInfo r;
  r.command = std::move(command);
  r.seed = std::move(seed);
  r.threads = threads;
  r.wall_seconds = wall_seconds;
  r.version = train::version();
  r.cpu = cpu_model();
  r.hardware_threads = std::thread::hardware_concurrency();
  r.finished = utc_now();
  return r;
}

std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  auto line = [](const std::vector<std::string>& cells) {
    std::string s = "|";
    for (const std::string& c : cells) {
      std::string e;
      for (char ch : c) e += ch == '|' ? std::string("\\|") : ch == '\n' ? std::string(" ") : std::string(1, ch);
      s += " " + e + " |";
    }
    return s + "\n";
  };
  std::string s = line(header) + "|";
  for (std::size_t i = 0; i < header.size(); ++i) s += "---|";
  s += "\n";
  for (const auto& r : rows) s += line(r);
  return s;
}

std::string base64(const std::string& bytes) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = std::uint32_t(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out += digits[(v >> 18) & 63];
    out += digits[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? digits[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? digits[v & 63] : '=';
  }
  return out;
}

Report::Report(std::string title, std::string summary) : title_(std::move(title)), summary_(std::move(summary)) {}

void Report::describe(const std::string& markdown) { description_.push_back(markdown); }

void Report::history(const std::vector<Row>& rows, std::size_t batches_per_epoch) {
  rows_ = rows;
  batches_per_epoch_ = batches_per_epoch;
}

void Report::markdown(const std::string& text) { items_.push_back({Item::Markdown, text, "", {}}); }

void Report::text(const std::string& caption, const std::string& output) {
  items_.push_back({Item::Text, caption, output, {}});
}

void Report::table(const std::string& caption, const std::vector<std::string>& header,
                   const std::vector<std::vector<std::string>>& rows) {
  markdown(caption + (caption.empty() ? "" : "\n\n") + markdown_table(header, rows));
}

void Report::figure(const Figure& figure, const std::string& caption) {
  items_.push_back({Item::Image, caption, "", figure});
}

std::vector<Report::Item> Report::curves() const {
  std::vector<Item> out;
  if (rows_.empty()) return out;
  bool by_epoch = batches_per_epoch_ > 0;
  for (const Row& r : rows_) by_epoch = by_epoch && r.step % batches_per_epoch_ == 0;
  const std::string x = by_epoch ? "epoch" : "step";
  auto x_of = [&](const Row& r) { return by_epoch ? double(r.step / batches_per_epoch_) : double(r.step); };

  // Kinds in order of appearance, "loss" first; each kind's series by split.
  std::vector<std::string> kinds{"loss"};
  std::map<std::string, std::vector<Series>> series;
  auto add = [&](const std::string& kind, const std::string& split, double xv, double yv) {
    if (!series.count(kind) && kind != "loss") kinds.push_back(kind);
    auto& list = series[kind];
    auto it = std::find_if(list.begin(), list.end(), [&](const Series& s) { return s.name == split; });
    if (it == list.end()) it = list.insert(list.end(), Series{split, {}, {}});
    it->x.push_back(xv);
    it->y.push_back(yv);
  };
  for (const Row& r : rows_) {
    add("loss", "train", x_of(r), r.loss);
    for (const auto& [name, value] : r.values) {
      auto [kind, split] = kind_and_split(name);
      for (const auto& [metric, figure] : plot_with_)
        if (metric == name) kind = figure, split = name;
      add(kind, split, x_of(r), value);
    }
  }
  out.push_back({Item::Markdown,
                 "## Curves\n\nOne figure per kind of value the run logged, against the " + x +
                     " (the x axis is the " + x + " at which each evaluation ran); each figure is also a PNG "
                     "file beside this notebook.",
                 "", {}});
  for (const std::string& kind : kinds) {
    const KindText t = kind_text(kind);
    Chart chart{t.axis + " against " + x, x, t.axis, series[kind], t.log_y};
    out.push_back({Item::Image, "**" + t.axis + "**: " + t.meaning, "", chart_figure(file_safe(kind), chart)});
  }
  return out;
}

namespace {

// A notebook's cells as they are added.
class Cells {
 public:
  void markdown(const std::string& text) {
    cells_.push_back({{"cell_type", "markdown"}, {"id", next_id()}, {"metadata", Json::object()}, {"source", text}});
  }
  void code(const std::string& source, Json outputs) {
    cells_.push_back({{"cell_type", "code"},
                      {"id", next_id()},
                      {"metadata", Json::object()},
                      {"execution_count", nullptr},
                      {"source", source},
                      {"outputs", std::move(outputs)}});
  }
  void printed(const std::string& comment, const std::string& text) {
    code(comment, Json::array({{{"output_type", "stream"}, {"name", "stdout"}, {"text", text}}}));
  }
  Json take() { return std::move(cells_); }

 private:
  std::string next_id() const { return fmt::format("cell-{}", cells_.size() + 1); }
  Json cells_ = Json::array();
};

// The metrics table: one row per evaluation, as the log prints them.
std::string metrics_table(const std::vector<Row>& history) {
  std::vector<std::string> header{"step", "epoch", "loss"};
  for (const auto& [name, value] : history.front().values) header.push_back(name);
  header.push_back("train_seconds");
  std::vector<std::vector<std::string>> rows;
  for (const Row& r : history) {
    std::vector<std::string> row{std::to_string(r.step), std::to_string(r.epoch), fmt::format("{:.4f}", r.loss)};
    for (const auto& [name, value] : r.values) row.push_back(fmt::format("{:.4f}", value));
    row.push_back(fmt::format("{:.1f}", r.train_seconds));
    rows.push_back(std::move(row));
  }
  return markdown_table(header, rows);
}

std::string run_section(const RunInfo& run) {
  std::vector<std::vector<std::string>> rows = {
      {"version", "tapegrad " + run.version},
      {"machine", fmt::format("{}, {} hardware threads; BLAS threads {}", run.cpu, run.hardware_threads,
                              run.threads)},
      {"seed", run.seed.empty() ? "none (the program draws nothing at random)" : run.seed},
      {"wall time", fmt::format("{:.1f} s (start of the program to this report)", run.wall_seconds)},
      {"finished", run.finished},
  };
  return "## The run\n\nThe command, exactly as it ran:\n\n```\n" + run.command + "\n```\n\n" +
         markdown_table({"", ""}, rows);
}

// Shows the figure in the notebook, after its caption; its file STEM.<name>.png
// goes to `files`, written with the notebook (report_files.hpp).
void add_figure(Cells& cells, const Figure& figure, const std::string& caption, const std::string& stem,
                std::vector<FigureFile>* files) {
  const std::string png = render_png(figure);
  const std::string shown = std::filesystem::path(stem).filename().string() + "." + figure.name + ".png";
  files->push_back({shown, png});
  if (!caption.empty()) cells.markdown(caption);
  cells.code("from IPython.display import Image\nImage(filename=\"" + shown + "\")",
             Json::array({{{"output_type", "display_data"},
                           {"metadata", Json::object()},
                           {"data", {{"image/png", base64(png)}, {"text/plain", "<figure: " + shown + ">"}}}}}));
}

}  // namespace

void Report::write(const std::string& path) const {
  const std::string stem = stem_of(path);
  Cells cells;
  cells.markdown("# " + title_ + ": report of a run\n\n" + summary_);
  for (const std::string& d : description_) cells.markdown(d);
  if (has_run_) cells.markdown(run_section(run_));
  cells.markdown("## Training log\n\nWhat the run printed on its standard output, as it printed it.");
  cells.printed("# the output of the command above", log_.empty() ? "(the run printed nothing)\n" : log_);

  std::vector<Item> items;
  if (!rows_.empty()) {
    cells.markdown("## Metrics\n\nOne row per evaluation: the step and the epoch it ran at (epochs counted from 1), "
                   "**loss** the mean training loss since the previous row, then the evaluation's values and the "
                   "training time so far (evaluation excluded), as the log prints them.\n\n" +
                   metrics_table(rows_));
    items = curves();
  }
  items.insert(items.end(), items_.begin(), items_.end());
  std::set<std::string> names;
  std::vector<FigureFile> files;
  for (const Item& item : items) {
    if (item.kind == Item::Markdown) {
      cells.markdown(item.markdown);
    } else if (item.kind == Item::Text) {
      if (!item.markdown.empty()) cells.markdown(item.markdown);
      cells.printed("# output of the run", item.text);
    } else {
      if (!names.insert(item.figure.name).second)
        throw Error("report: two figures are named '" + item.figure.name + "'");
      add_figure(cells, item.figure, item.markdown, stem, &files);
    }
  }
  Json digests = Json::object();  // how a later run knows these files for ours
  for (const FigureFile& f : files) digests[f.file] = data::sha256_hex(f.png);
  Json nb = {{"nbformat", 4},
             {"nbformat_minor", 5},
             {"metadata",
              {{"kernelspec", {{"name", "python3"}, {"display_name", "Python 3"}, {"language", "python"}}},
               {"language_info", {{"name", "python"}}},
               {"tapegrad", {{"report", title_}, {"version", version()}, {"figures", digests}}}}},
             {"cells", cells.take()}};
  write_report_files(path, nb.dump(1) + "\n", files);
}

}  // namespace tg::train
