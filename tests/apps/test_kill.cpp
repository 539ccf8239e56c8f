// kill -9 at random moments of a training run that saves at every other
// step: the last checkpoint always loads, the next run resumes from it, and
// the temp files of killed saves do not pile up.
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
#include <string>
#include <thread>
#include <vector>

#include <tapegrad/checkpoint/state.hpp>
#include "tests/apps/mnist_files.hpp"

namespace fs = std::filesystem;

namespace {

pid_t start(const std::vector<std::string>& args) {
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

}  // namespace

TEST_CASE("kill -9 during training never loses the last checkpoint", "[apps][kill]") {
  const fs::path dir = fs::temp_directory_path() / ("tg_kill_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::mt19937 rng(5);
  tg::test::write_mnist_split(dir, "train", 400, rng);
  tg::test::write_mnist_split(dir, "t10k", 20, rng);
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
