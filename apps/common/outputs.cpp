// The frame's checks of a run's outputs, before any work: each is writable,
// apart from the others and from --load, and a file already there is
// replaced only when it is the same kind of tapegrad output.
#include <filesystem>
#include <fstream>
#include <functional>
#include <utility>

#include <nlohmann/json.hpp>

#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/io/atomic_file.hpp>
#include <tapegrad/io/safetensors.hpp>
#include <tapegrad/train/report_files.hpp>

#include "apps/common/frame.hpp"

namespace tg::app {
namespace {

// The same file, however it is spelled ("a.st", "./a.st").
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  const std::filesystem::path pa = std::filesystem::weakly_canonical(a, ea);
  const std::filesystem::path pb = std::filesystem::weakly_canonical(b, eb);
  return ea || eb ? a == b : pa == pb;
}

// `what` ('--save') at `path` must be writable; a file already there is
// replaced only when `ours` takes it for `kind` (a throw is a no).
void check_output(const std::string& what, const std::string& path, const std::string& kind,
                  const std::function<bool(const std::string&)>& ours) {
  io::check_writable(path, what);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  bool is_ours = false;
  try {
    is_ours = ours(path);
  } catch (const Error&) {
  }
  if (!is_ours) throw UsageError(what + " '" + path + "' exists and is not " + kind + "; refusing to replace it");
}

bool is_notebook_of_ours(const std::string& path) {
  std::ifstream in(path);
  const nlohmann::json nb = nlohmann::json::parse(in, nullptr, false);
  return nb.is_object() && nb.contains("metadata") && nb["metadata"].is_object() &&
         nb["metadata"].contains("tapegrad");
}

}  // namespace

void Frame::add_save_sidecar(std::string suffix, std::string kind, std::function<void(const std::string&)> read) {
  sidecars_.push_back({std::move(suffix), std::move(kind), std::move(read)});
}

void Frame::check_report_path() const {
  const std::string& path = report_path_;
  if (path.size() <= 6 || path.compare(path.size() - 6, 6, ".ipynb") != 0)
    throw UsageError("--report '" + path + "' must name a notebook file ending in .ipynb");
  try {
    check_output("--report", path, "a tapegrad report", is_notebook_of_ours);
    train::check_report_files(path);  // its figures beside it: the notebook's, or none
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

void Frame::check_outputs() const {
  try {
    check_output_paths();
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {  // an output that cannot be written is a bad flag
    throw UsageError(e.what());
  }
}

void Frame::check_outputs_apart() const {
  // Two outputs in one file: the last one written would replace the other
  // (a checkpoint overwritten by the metrics CSV, exit 0).
  std::vector<std::pair<std::string, std::string>> outputs = {{"--save", flags_.save},
                                                              {"--metrics", flags_.metrics},
                                                              {"--export-torch", flags_.export_torch},
                                                              {"--profile-csv", flags_.profile_csv},
                                                              {"--report", report_path_}};
  if (!flags_.save.empty())
    for (const Sidecar& s : sidecars_) outputs.emplace_back("--save's " + s.kind, flags_.save + s.suffix);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& [flag, path] = outputs[i];
    if (path.empty()) continue;
    for (std::size_t j = i + 1; j < outputs.size(); ++j)
      if (!outputs[j].second.empty() && same_file(path, outputs[j].second))
        throw UsageError(outputs[j].first + " '" + outputs[j].second + "' is also the " + flag +
                         " file: give each output a file of its own");
    // --save may name the --load checkpoint (a run that saves over the one it resumed).
    if (i > 0 && !flags_.load.empty() && same_file(path, flags_.load))
      throw UsageError(flag + " '" + path + "' is also the --load file: it would be replaced");
  }
}

void Frame::check_output_paths() const {
  check_outputs_apart();
  if (!flags_.save.empty()) {
    check_output("--save", flags_.save, "a tapegrad checkpoint", [](const std::string& p) {
      ckpt::read_meta(p);
      return true;
    });
    // PATH.vocab and the like: a file of that kind an earlier run wrote, or nothing.
    for (const Sidecar& s : sidecars_)
      check_output("--save's " + s.kind, flags_.save + s.suffix, "a tapegrad " + s.kind + " file",
                   [&](const std::string& p) {
                     s.read(p);
                     return true;
                   });
  }
  if (!flags_.profile_csv.empty()) io::check_writable(flags_.profile_csv, "--profile-csv");
  if (!flags_.export_torch.empty())
    check_output("--export-torch", flags_.export_torch, "a model exported for PyTorch", [](const std::string& p) {
      return load_safetensors(p).metadata.count("torch_modules") > 0;
    });
  if (!flags_.metrics.empty())
    check_output("--metrics", flags_.metrics, "a metrics CSV", [](const std::string& p) {
      std::ifstream in(p);
      std::string first;
      return !std::getline(in, first) || first.rfind("step,", 0) == 0;  // empty, or our header
    });
}

}  // namespace tg::app
