// The apps' shared pieces: the metrics CSV, the frame's settings in a
// checkpoint.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/common/frame.hpp"
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/io/atomic_file.hpp>
#include <tapegrad/layers/linear.hpp>
#include <tapegrad/train/log.hpp>

using namespace tg;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("tapegrad_common_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("metrics CSV: header, rows, always a whole file", "[apps][metrics]") {
  const fs::path path = temp_dir() / "metrics.csv";
  train::MetricsCsv csv(path.string(), {"step", "loss"});
  REQUIRE(slurp(path) == "step,loss\n");
  csv.row({500, 0.25});
  csv.row({1000, 0.125});
  REQUIRE(slurp(path) == "step,loss\n500,0.25\n1000,0.125\n");
  REQUIRE_THROWS_WITH(csv.row({1}), Catch::Contains("1 values for 2 columns"));
  REQUIRE_THROWS_WITH(io::write_file_atomic("/nonexistent-dir/x.csv", "a"),
                      Catch::Contains("/nonexistent-dir/x.csv"));
}

namespace {
// A frame with one app flag, parsed from `args`.
struct FlagApp {
  app::Frame frame{"flag_app", "test"};
  bool mask = false;
  explicit FlagApp(std::vector<std::string> args) {
    frame.cli().add_flag("--mask", mask, "an on/off setting of the app");
    app::TrainingFlags d;
    d.steps = 1;
    frame.add_training_flags(d);
    args.insert(args.begin(), "flag_app");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    frame.parse(int(argv.size()), argv.data());
  }
};
}  // namespace

TEST_CASE("frame: an on/off flag is stored with a checkpoint and restored from it", "[apps][frame]") {
  const fs::path dir = temp_dir();
  Tape<float> tape;
  Rng rng(1);
  Linear<float> layer(tape, 2, 1, rng);
  auto save = [&](const FlagApp& a, const std::string& name) {
    const std::string path = (dir / name).string();
    ckpt::save<float>(path, layer.named_parameters(), nullptr, a.frame.meta());
    return path;
  };
  const FlagApp on({"--mask"}), off({});
  CHECK(on.frame.meta()["config"]["--mask"] == "true");
  CHECK(off.frame.meta()["config"]["--mask"] == "false");
  const std::string with = save(on, "on.st"), without = save(off, "off.st");

  const FlagApp resumed_on({"--load", with});
  CHECK(resumed_on.mask);
  CHECK(resumed_on.frame.meta()["config"]["--mask"] == "true");
  const FlagApp resumed_off({"--load", without});
  CHECK_FALSE(resumed_off.mask);
  CHECK(resumed_off.frame.meta()["config"]["--mask"] == "false");
  CHECK_THROWS_AS(FlagApp({"--load", without, "--mask"}), app::UsageError);
  CHECK_NOTHROW(FlagApp({"--load", with, "--mask"}));
  fs::remove_all(dir);
}

TEST_CASE("frame: an option given twice is stored with its last value", "[apps][frame]") {
  const FlagApp twice({"--clip", "1", "--clip", "2"});
  CHECK(twice.frame.flags().clip == 2);
  CHECK(twice.frame.meta()["config"]["--clip"] == "2");
}
