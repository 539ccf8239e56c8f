// A report's files as one unit (train/report_files.hpp): the notebook lists
// its figures' sha256; only figures so listed are replaced; figures the new
// report lacks go; a staged notebook a killed write left vouches for the
// figures it lists.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/sha256.hpp>
#include <tapegrad/train/report_files.hpp>

using namespace tg;
namespace fs = std::filesystem;

namespace {

struct Dir {
  fs::path path = fs::temp_directory_path() / ("tg_report_files_" + std::to_string(::getpid()));
  Dir() { fs::create_directories(path); }
  ~Dir() { fs::remove_all(path); }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A notebook's text that lists `figures`, as Report::write makes it.
std::string notebook_text(const std::vector<train::FigureFile>& figures) {
  nlohmann::json digests = nlohmann::json::object();
  for (const auto& f : figures) digests[f.file] = data::sha256_hex(f.png);
  return nlohmann::json{{"metadata", {{"tapegrad", {{"figures", digests}}}}}, {"cells", nlohmann::json::array()}}
      .dump();
}

void write_set(const fs::path& nb, const std::vector<train::FigureFile>& figures) {
  train::write_report_files(nb.string(), notebook_text(figures), figures);
}

}  // namespace

TEST_CASE("report files: listed figures are replaced, others refused, dropped ones removed", "[train][report]") {
  Dir dir;
  const fs::path nb = dir.path / "r.ipynb";
  write_set(nb, {{"r.loss.png", "one"}, {"r.acc.png", "two"}});
  CHECK(read(dir.path / "r.loss.png") == "one");
  train::check_report_files(nb.string());  // all ours
  write_set(nb, {{"r.loss.png", "three"}});
  CHECK(read(dir.path / "r.loss.png") == "three");
  CHECK_FALSE(fs::exists(dir.path / "r.acc.png"));  // the old report's, not the new one's
  // A file not listed, and a listed one changed since: refused, untouched.
  std::ofstream(dir.path / "r.mine.png") << "mine";
  CHECK_THROWS_WITH(train::check_report_files(nb.string()), Catch::Contains("r.mine.png"));
  fs::remove(dir.path / "r.mine.png");
  std::ofstream(dir.path / "r.loss.png") << "edited";
  CHECK_THROWS_WITH(write_set(nb, {{"r.loss.png", "four"}}), Catch::Contains("r.loss.png"));
  CHECK(read(dir.path / "r.loss.png") == "edited");
  CHECK(read(nb) == notebook_text({{"r.loss.png", "three"}}));
  // Another report's figures (r.v2.ipynb's r.v2.loss.png) are not r.ipynb's concern.
  std::ofstream(dir.path / "r.v2.loss.png") << "other";
  fs::remove(dir.path / "r.loss.png");
  train::check_report_files(nb.string());
  // A notebook that is not a report is never replaced.
  std::ofstream(nb) << "{}";
  CHECK_THROWS_WITH(write_set(nb, {}), Catch::Contains("not a tapegrad report"));
}

TEST_CASE("report files: a write killed between its renames leaves figures the next run trusts",
          "[train][report]") {
  Dir dir;
  const fs::path nb = dir.path / "r.ipynb";
  write_set(nb, {{"r.loss.png", "old"}});
  // As a kill after the figures' renames leaves it: the new figure in place,
  // the new notebook whole under a dead process's temp name.
  const std::vector<train::FigureFile> next = {{"r.loss.png", "new"}};
  std::ofstream(dir.path / "r.loss.png") << "new";
  std::ofstream(dir.path / "r.ipynb.tmp.999999999") << notebook_text(next);
  train::check_report_files(nb.string());
  write_set(nb, {{"r.loss.png", "newer"}});
  CHECK(read(dir.path / "r.loss.png") == "newer");
  CHECK_FALSE(fs::exists(dir.path / "r.ipynb.tmp.999999999"));  // the dead process's temp file went
}
