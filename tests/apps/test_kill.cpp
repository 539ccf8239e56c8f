// kill -9 at random moments of a training run that saves at every other
// step: the last checkpoint always loads, the next run resumes from it, and
// the temp files of killed saves do not pile up. And of short runs that also
// write metrics and a report: no metrics row up to the checkpoint's step is
// lost, and the report's figures are always those its notebook lists.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/datasets/sha256.hpp>
#include <tapegrad/io/safetensors.hpp>
#include "tests/apps/mnist_files.hpp"

namespace fs = std::filesystem;

namespace {

pid_t start(const std::vector<std::string>& args) {
  std::fflush(nullptr);  // else the child's freopen prints the test's buffered output again
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::size_t saved_step(const std::string& path) {
  return tg::ckpt::read_meta(path).at("trainer").at("step").get<std::size_t>();
}

// A temp folder with a noise MNIST of `train` images (and 20 test ones).
fs::path mnist_folder(const std::string& name, std::uint32_t train, std::mt19937& rng) {
  const fs::path dir = fs::temp_directory_path() / (name + std::to_string(getpid()));
  fs::create_directories(dir);
  tg::test::write_mnist_split(dir, "train", train, rng);
  tg::test::write_mnist_split(dir, "t10k", 20, rng);
  return dir;
}

// The steps of the metrics CSV's rows.
std::set<std::size_t> metric_steps(const fs::path& csv) {
  std::ifstream in(csv);
  std::set<std::size_t> steps;
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) steps.insert(std::stoul(line.substr(0, line.find(','))));
  return steps;
}

// The report in `dir` is one set: every r.*.png beside r.ipynb is a figure
// the notebook lists, with that sha256, and every listed figure is there.
void check_report_set(const fs::path& dir) {
  if (!fs::exists(dir / "r.ipynb")) return;
  std::ifstream in(dir / "r.ipynb");
  const auto figures = nlohmann::json::parse(in).at("metadata").at("tapegrad").at("figures");
  std::size_t beside = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("r.", 0) != 0 || name.size() < 5 || name.substr(name.size() - 4) != ".png") continue;
    ++beside;
    INFO(name);
    REQUIRE(figures.contains(name));
    CHECK(tg::data::sha256_file(e.path()) == figures[name].get<std::string>());
  }
  CHECK(beside == figures.size());
}

}  // namespace

TEST_CASE("kill -9 during training never loses the last checkpoint", "[apps][kill]") {
  std::mt19937 rng(5);
  const fs::path dir = mnist_folder("tg_kill_", 400, rng);
  const std::string ckpt = (dir / "run.st").string();
  const std::vector<std::string> train = {MNIST_RNN_EXE, "--data", dir.string(), "--hidden", "256",
                                          "--batch", "10", "--steps", "100000", "--eval-every", "2",
                                          "--save", ckpt, "--quiet", "--own-data"};
  std::size_t last_step = 0, kills = 0;
  for (int round = 0; round < 12; ++round) {
    std::vector<std::string> args = train;
    if (fs::exists(ckpt)) args.insert(args.end(), {"--load", ckpt});
    const pid_t pid = start(args);
    // Until a first save exists, wait for it (a slow machine or a sanitizer
    // build may take longer than the kill interval to get there).
    for (int waited = 0; !fs::exists(ckpt) && waited < 120000; waited += 20)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(80 + rng() % 220));
    kill(pid, SIGKILL);
    kills += wait_for(pid) == 128 + SIGKILL;
    if (!fs::exists(ckpt)) continue;
    // The checkpoint is whole: it loads, evaluates, and only moves forward.
    const std::size_t step = saved_step(ckpt);
    CHECK(step >= last_step);
    last_step = step;
    CHECK(wait_for(start({MNIST_RNN_EXE, "--data", dir.string(), "--load", ckpt, "--eval-only",
                          "--quiet", "--own-data"})) == 0);
  }
  CHECK(kills >= 10);      // the runs were killed, not finished
  CHECK(last_step > 0);    // and they got far enough to save
  // One clean run to the end: it resumes, saves, and removes what killed
  // saves left behind.
  std::vector<std::string> finish = train;
  finish[8] = std::to_string(last_step + 4);  // --steps
  finish.insert(finish.end(), {"--load", ckpt});
  CHECK(wait_for(start(finish)) == 0);
  CHECK(saved_step(ckpt) == last_step + 4);
  for (const auto& e : fs::directory_iterator(dir))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("kill -9 during runs that write metrics and a report: no row lost, no mixed report", "[apps][kill]") {
  std::mt19937 rng(7);
  const fs::path dir = mnist_folder("tg_kill_report_", 200, rng);
  const std::string ckpt = (dir / "run.st").string(), csv = (dir / "run.csv").string();
  // Each run trains 4 steps past the checkpoint, evaluating, saving and
  // logging every 2, then writes the report: a kill lands in any of these.
  auto run_to = [&](std::size_t end) {
    std::vector<std::string> args = {MNIST_RNN_EXE, "--data", dir.string(), "--hidden", "16", "--batch", "10",
                                     "--steps", std::to_string(end), "--eval-every", "2", "--save", ckpt,
                                     "--metrics", csv, "--report", (dir / "r.ipynb").string(), "--quiet",
                                     "--own-data"};
    if (fs::exists(ckpt)) args.insert(args.end(), {"--load", ckpt});
    return start(args);
  };
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(wait_for(run_to(4)) == 0);  // a whole run: how long one takes
  const auto whole = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::size_t kills = 0, reports = 0;
  std::string last_report;
  for (int round = 0; round < 16; ++round) {
    const pid_t pid = run_to(saved_step(ckpt) + 4);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % (whole.count() + 1)));
    kill(pid, SIGKILL);
    kills += wait_for(pid) == 128 + SIGKILL;
    // The checkpoint loads; every evaluation up to its step has its row.
    const std::size_t step = saved_step(ckpt);
    CHECK(tg::load_safetensors(ckpt).tensors.size() > 0);
    const std::set<std::size_t> rows = metric_steps(csv);
    for (std::size_t s = 2; s <= step; s += 2) CHECK(rows.count(s) == 1);
    check_report_set(dir);
    std::ifstream nb(dir / "r.ipynb");
    const std::string report((std::istreambuf_iterator<char>(nb)), std::istreambuf_iterator<char>());
    reports += report != last_report;
    last_report = report;
  }
  CHECK(kills >= 8);  // most runs were killed, not finished
  WARN(kills << " of 16 runs killed; the report changed after " << reports << " of them; checkpoint at step "
             << saved_step(ckpt) << "; one whole run " << whole.count() << " ms");
  fs::remove_all(dir);
}
