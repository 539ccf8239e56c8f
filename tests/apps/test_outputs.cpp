// The files an app writes beside its outputs never replace a file of yours:
// the sidecars of --save (imdb_lstm's PATH.vocab, slot_filling's PATH.vocab
// and PATH.tags) and a report's figures (REPORT.<name>.png) are checked with
// the other outputs before any work; an existing one is replaced only when an
// earlier tapegrad run wrote it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <tapegrad/datasets/sha256.hpp>
#include "tests/apps/app_exe.hpp"     // run_exe
#include "tests/apps/imdb_files.hpp"  // write_reviews

namespace {

namespace fs = std::filesystem;
using tg::data::test::read_file;
using tg::data::test::TmpDir;
using tg::test::Exe;
using tg::test::run_exe;

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

void make_read_only(const fs::path& p) {
  fs::permissions(p, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
}

// A training run that saves to `ckpt`, small and quick.
Exe imdb_save(const fs::path& reviews, const fs::path& ckpt) {
  return run_exe(IMDB_LSTM_EXE, "--data " + reviews.string() + " --vocab 50 --maxlen 12 --embed 8 --hidden 8"
                                " --batch 16 --steps 1 --quiet --save " + ckpt.string());
}
Exe slot_save(const fs::path& ckpt) {
  return run_exe(SLOT_FILLING_EXE, "--epochs 1 --embed 8 --hidden 8 --quiet --save " + ckpt.string());
}

// What a refused run must show: exit 2, the flag and the file named, nothing
// trained, the file as it was.
void check_refused(const Exe& r, const fs::path& ckpt, const fs::path& file, const std::string& before) {
  INFO(r.out << r.err);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--save") && Catch::Contains(file.string()));
  CHECK_FALSE(fs::exists(ckpt));
  if (fs::is_regular_file(file)) CHECK(read_file(file.string()) == before);
}

}  // namespace

TEST_CASE("sidecars of --save: a file of yours, read-only or a folder there stops the run", "[apps][outputs]") {
  const TmpDir dir;
  const fs::path reviews = tg::test::write_reviews(dir.path(), 64, 3);
  struct Case {
    std::string app, suffix;
  };
  for (const Case& c : {Case{"imdb_lstm", ".vocab"}, Case{"slot_filling", ".vocab"}, Case{"slot_filling", ".tags"}}) {
    DYNAMIC_SECTION(c.app << " PATH" << c.suffix) {
      auto save = [&](const fs::path& ckpt) { return c.app == "imdb_lstm" ? imdb_save(reviews, ckpt) : slot_save(ckpt); };
      const fs::path ckpt = dir / (c.app + ".st"), side = dir / (c.app + ".st" + c.suffix);
      // A text of yours under the name: refused, unchanged.
      write(side, "my notes\n");
      check_refused(save(ckpt), ckpt, side, "my notes\n");
      // An earlier run's sidecar, read-only: refused too.
      fs::remove(side);
      REQUIRE(save(ckpt).code == 0);
      const std::string earlier = read_file(side.string());
      fs::remove(ckpt);
      make_read_only(side);
      check_refused(save(ckpt), ckpt, side, earlier);
      // Writable again, it is ours and is replaced.
      fs::permissions(side, fs::perms::owner_write, fs::perm_options::add);
      CHECK(save(ckpt).code == 0);
      // A folder in its place.
      fs::remove(ckpt);
      fs::remove(side);
      fs::create_directory(side);
      check_refused(save(ckpt), ckpt, side, "");
      CHECK(fs::is_directory(side));
    }
  }
}

namespace {

Exe slot_report(const fs::path& notebook) {
  return run_exe(SLOT_FILLING_EXE, "--epochs 1 --embed 8 --hidden 8 --quiet --report " + notebook.string());
}

// The notebook's figures (file -> sha256) from its metadata.
std::map<std::string, std::string> listed_figures(const fs::path& notebook) {
  const nlohmann::json nb = nlohmann::json::parse(read_file(notebook.string()));
  return nb.at("metadata").at("tapegrad").at("figures").get<std::map<std::string, std::string>>();
}

}  // namespace

TEST_CASE("report figures: only an earlier report's are replaced, checked before any work", "[apps][outputs][report]") {
  const TmpDir dir;
  const fs::path nb = dir / "r.ipynb", loss = dir / "r.loss.png";
  auto refused = [&](const fs::path& file) {
    const Exe r = slot_report(nb);
    INFO(r.out << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(file.string()));
    CHECK_THAT(r.out, !Catch::Contains("epoch 1"));  // nothing trained
  };
  SECTION("a folder, a file of yours, a PNG no report lists") {
    fs::create_directory(loss);
    refused(loss);
    CHECK_FALSE(fs::exists(nb));
    fs::remove(loss);
    write(loss, "my picture");
    refused(loss);
    CHECK(read_file(loss.string()) == "my picture");
  }
  SECTION("an earlier report's figures are replaced; the notebook lists each with its sha256") {
    fs::remove(loss);
    const Exe first = slot_report(nb);
    INFO(first.out << first.err);
    REQUIRE(first.code == 0);
    const auto figures = listed_figures(nb);
    CHECK(figures.count("r.loss.png"));
    for (const auto& [file, digest] : figures) CHECK(tg::data::sha256_file(dir / file) == digest);
    CHECK(slot_report(nb).code == 0);
    // A copy of a figure under another figure's name is not listed: refused.
    fs::copy_file(loss, dir / "r.extra.png");
    refused(dir / "r.extra.png");
    fs::remove(dir / "r.extra.png");
    // Nor is a listed figure made read-only, or changed.
    make_read_only(loss);
    refused(loss);
    fs::permissions(loss, fs::perms::owner_write, fs::perm_options::add);
    write(loss, "edited");
    refused(loss);
  }
}
