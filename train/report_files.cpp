#include <tapegrad/train/report_files.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/sha256.hpp>
#include <tapegrad/io/atomic_file.hpp>

namespace tg::train {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// file name -> sha256, of figures some report vouches for.
using Listing = std::multimap<std::string, std::string>;

std::string folder_of(const std::string& path) {
  const std::string dir = fs::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// "run" of "out/run.ipynb".
std::string stem_name(const std::string& notebook) {
  const std::string name = fs::path(notebook).filename().string();
  return name.size() > 6 && name.compare(name.size() - 6, 6, ".ipynb") == 0 ? name.substr(0, name.size() - 6) : name;
}

// STEM.<name>.png with <name> as the report names figures (file_safe).
bool is_figure_name(const std::string& file, const std::string& stem) {
  if (file.size() <= stem.size() + 5 || file.compare(0, stem.size() + 1, stem + ".") != 0 ||
      file.compare(file.size() - 4, 4, ".png") != 0)
    return false;
  const std::string middle = file.substr(stem.size() + 1, file.size() - stem.size() - 5);
  return !middle.empty() && std::all_of(middle.begin(), middle.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

Json read_json(const std::string& path) {
  std::ifstream in(path);
  return in ? Json::parse(in, nullptr, false) : Json();
}

bool is_report(const Json& nb) {
  return nb.is_object() && nb.contains("metadata") && nb["metadata"].is_object() && nb["metadata"].contains("tapegrad");
}

// The figures a notebook lists with their digests (nothing when it is not a report).
void add_listing(const Json& nb, Listing* out) {
  if (!is_report(nb)) return;
  const Json& tg = nb["metadata"]["tapegrad"];
  if (!tg.is_object() || !tg.contains("figures") || !tg["figures"].is_object()) return;
  for (const auto& [file, digest] : tg["figures"].items())
    if (digest.is_string()) out->emplace(file, digest.get<std::string>());
}

// What the notebook at `notebook` lists, and any staged copy a killed write left (PATH.tmp.<pid>).
Listing trusted_figures(const std::string& notebook) {
  Listing trusted;
  add_listing(read_json(notebook), &trusted);
  const std::string staged = fs::path(notebook).filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder_of(notebook), ec))
    if (e.path().filename().string().rfind(staged, 0) == 0) add_listing(read_json(e.path().string()), &trusted);
  return trusted;
}

bool listed(const Listing& l, const std::string& file, const std::string& path) {
  auto [lo, hi] = l.equal_range(file);
  if (lo == hi) return false;
  const std::string have = data::sha256_file(path);
  return std::any_of(lo, hi, [&](const auto& kv) { return kv.second == have; });
}

// A figure's place: writable, and empty or holding a figure `trusted` vouches for.
void check_figure_place(const std::string& notebook, const std::string& path, const Listing& trusted) {
  const std::string what = "report '" + notebook + "': figure";
  io::check_writable(path, what);
  std::error_code ec;
  if (fs::exists(path, ec) && !listed(trusted, fs::path(path).filename().string(), path))
    throw Error(what + " '" + path + "' exists and is not one that a report at this path wrote (its sha256 "
                "is not in the notebook's metadata); refusing to replace it: move it, or write the report "
                "elsewhere");
}

}  // namespace

void check_report_files(const std::string& notebook) {
  const Listing trusted = trusted_figures(notebook);
  const std::string stem = stem_name(notebook);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder_of(notebook), ec))
    if (is_figure_name(e.path().filename().string(), stem))  // named as the user spelled the folder
      check_figure_place(notebook, (fs::path(notebook).parent_path() / e.path().filename()).string(), trusted);
}

void write_report_files(const std::string& notebook, const std::string& text, const std::vector<FigureFile>& figures) {
  const Json old = read_json(notebook);
  std::error_code ec;
  if (fs::exists(notebook, ec) && !is_report(old))
    throw Error("report '" + notebook + "' exists and is not a tapegrad report; refusing to replace it");
  const Listing trusted = trusted_figures(notebook);
  const fs::path dir = fs::path(notebook).parent_path();  // "" for the current folder
  for (const FigureFile& f : figures) check_figure_place(notebook, (dir / f.file).string(), trusted);

  std::vector<std::pair<std::string, std::string>> staged;  // temp file, its place
  try {
    for (const FigureFile& f : figures)
      staged.emplace_back(io::stage_file((dir / f.file).string(), {f.png}), (dir / f.file).string());
    staged.emplace_back(io::stage_file(notebook, {text}), notebook);
  } catch (const Error&) {
    for (const auto& s : staged) ::unlink(s.first.c_str());
    throw;
  }
  // From here on only renames: the notebook goes last (see the header).
  for (std::size_t i = 0; i + 1 < staged.size(); ++i) io::commit_file(staged[i].first, staged[i].second, false);
  Listing previous;
  add_listing(old, &previous);
  std::set<std::string> now;
  for (const FigureFile& f : figures) now.insert(f.file);
  for (const auto& [file, digest] : previous) {
    const std::string path = (dir / file).string();
    if (!now.count(file) && is_figure_name(file, stem_name(notebook)) && fs::is_regular_file(path, ec) && listed(previous, file, path)) fs::remove(path, ec);
  }
  io::commit_file(staged.back().first, staged.back().second);
}

}  // namespace tg::train
