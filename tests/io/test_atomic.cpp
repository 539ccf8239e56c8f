// A failed or interrupted save leaves the previous checkpoint intact and,
// when it fails (rather than dies), no temp file behind.
#include <csignal>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>

#include <tapegrad/io/atomic_file.hpp>

#include "helpers.hpp"

using Catch::Matchers::Contains;
using namespace tg::test;

namespace {

tg::Checkpoint checkpoint_of_size(std::size_t n, float value) {
  tg::Checkpoint ckpt;
  tg::Tensor<float> t = tg::zeros<float>(tg::Shape{n});
  t.fill(value);
  tg::put(ckpt, "w", t);
  return ckpt;
}

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Limits the size of files this process may write; restores it at scope exit.
struct FileSizeLimit {
  rlimit old;
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old);
    rlimit lim = old;
    lim.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() { setrlimit(RLIMIT_FSIZE, &old); }
};

}  // namespace

TEST_CASE("save over an existing file replaces it") {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  tg::save_safetensors(path, checkpoint_of_size(4, 1.0f));
  tg::save_safetensors(path, checkpoint_of_size(8, 2.0f));
  CHECK(tg::get<float>(tg::load_safetensors(path), "w", {8})(7) == 2.0f);
  CHECK(files_in(dir.path) == std::vector<std::string>{"m.safetensors"});
}

TEST_CASE("a write error mid-file keeps the old checkpoint and removes the temp file") {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  tg::save_safetensors(path, checkpoint_of_size(4, 1.0f));
  const std::string before = read_bytes(path);

  std::string msg;
  {
    // Writes past 4 KiB fail with EFBIG (SIGXFSZ ignored) after the temp
    // file has been created and partly written.
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    FileSizeLimit limit(4096);
    msg = error_of([&] { tg::save_safetensors(path, checkpoint_of_size(100000, 2.0f)); });
    std::signal(SIGXFSZ, old_handler);
  }
  CHECK_THAT(msg, Contains(path) && Contains("File too large") && Contains(".tmp."));
  CHECK(read_bytes(path) == before);
  CHECK(files_in(dir.path) == std::vector<std::string>{"m.safetensors"});
}

TEST_CASE("a process killed mid-save leaves the old checkpoint loadable") {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  tg::save_safetensors(path, checkpoint_of_size(4, 1.0f));
  const std::string before = read_bytes(path);

  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Default SIGXFSZ action: the kernel kills us in the middle of write().
    FileSizeLimit limit(4096);
    try {
      tg::save_safetensors(path, checkpoint_of_size(100000, 2.0f));
    } catch (...) {
    }
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGXFSZ);
  CHECK(read_bytes(path) == before);
  CHECK(tg::get<float>(tg::load_safetensors(path), "w", {4})(0) == 1.0f);
  // The dead process's partial temp file is left behind, never read, and
  // removed by the next save to the same path.
  const std::string tmp = path + ".tmp." + std::to_string(child);
  CHECK(fs::exists(tmp));
  CHECK(fs::file_size(tmp) == 4096);
  const std::string mine = path + ".tmp." + std::to_string(getppid());  // a live process's
  { std::ofstream(mine) << "x"; }
  tg::save_safetensors(path, checkpoint_of_size(8, 3.0f));
  CHECK_FALSE(fs::exists(tmp));
  CHECK(fs::exists(mine));
  fs::remove(mine);
}

TEST_CASE("save into a directory that vanished fails, naming the path and errno") {
  TempDir dir;
  const std::string path = dir.file("gone/m.safetensors");
  std::string msg = error_of([&] { tg::save_safetensors(path, checkpoint_of_size(4, 1.0f)); });
  CHECK_THAT(msg, Contains(path) && Contains("No such file or directory"));
  CHECK(files_in(dir.path).empty());
}

TEST_CASE("a failed rename keeps what was there and removes the temp file") {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  fs::create_directories(fs::path(path) / "inside");  // a directory in the way
  std::string msg = error_of([&] { tg::save_safetensors(path, checkpoint_of_size(4, 1.0f)); });
  CHECK_THAT(msg, Contains(path) && Contains("rename"));
  CHECK(fs::is_directory(fs::path(path) / "inside"));
  CHECK(files_in(dir.path) == std::vector<std::string>{"m.safetensors"});
}

TEST_CASE("save into a read-only directory fails and keeps the old file") {
  if (geteuid() == 0) {
    WARN("running as root: permissions do not stop writes, skipped");
    return;
  }
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  tg::save_safetensors(path, checkpoint_of_size(4, 1.0f));
  const std::string before = read_bytes(path);
  fs::permissions(dir.path, fs::perms::owner_write, fs::perm_options::remove);
  std::string msg = error_of([&] { tg::save_safetensors(path, checkpoint_of_size(8, 2.0f)); });
  fs::permissions(dir.path, fs::perms::owner_write, fs::perm_options::add);
  CHECK_THAT(msg, Contains(path) && Contains("Permission denied"));
  CHECK(read_bytes(path) == before);
  CHECK(files_in(dir.path) == std::vector<std::string>{"m.safetensors"});
}

TEST_CASE("check_writable refuses a read-only file in the way, even for root") {
  // rename() would replace a 0444 file in a writable folder: the mode is the
  // user saying "keep this", so an output there is refused before any work.
  TempDir dir;
  const std::string path = dir.file("kept.txt");
  { std::ofstream(path) << "mine\n"; }
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  std::string msg = error_of([&] { tg::io::check_writable(path, "--save"); });
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  CHECK_THAT(msg, Contains("--save") && Contains(path) && Contains("read-only"));
  CHECK(read_bytes(path) == "mine\n");
  CHECK(files_in(dir.path) == std::vector<std::string>{"kept.txt"});
  tg::io::check_writable(path, "--save");  // writable again: accepted
}
