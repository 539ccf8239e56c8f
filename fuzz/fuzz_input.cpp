#include "fuzz/fuzz_input.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace tg::fuzz {
namespace {

// Removes the paths handed out, at normal exit (a crash leaves them, with
// the pid in their name, for the crash to be looked at).
struct Cleanup {
  std::vector<std::string> paths;
  ~Cleanup() {
    std::error_code ec;
    for (const auto& p : paths) std::filesystem::remove_all(p, ec);
  }
};
Cleanup& cleanup() {
  static Cleanup c;
  return c;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz: %s\n", what.c_str());
  std::abort();
}

bool verbose() {
  static const bool v = std::getenv("TAPEGRAD_FUZZ_VERBOSE") != nullptr;
  return v;
}

}  // namespace

std::string temp_path(const std::string& name) {
  std::string p = "/tmp/tapegrad-fuzz-" + std::to_string(::getpid()) + "-" + name;
  cleanup().paths.push_back(p);
  return p;
}

// Overwrites from offset 0, then cuts the file to `size`. Not O_TRUNC: on
// ext4, a file truncated to 0 and rewritten is flushed to disk at close()
// (auto_da_alloc), which made every run wait for the disk (300 runs/s).
void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) die("cannot open " + path + ": " + std::strerror(errno));
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("cannot write " + path + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0)
    die("cannot truncate " + path + ": " + std::strerror(errno));
  if (::close(fd) != 0) die("cannot close " + path + ": " + std::strerror(errno));
}

void check(bool ok, const char* what) {
  if (!ok) die(std::string("invariant broken: ") + what);
}

void accepted(const char* what) {
  if (verbose()) std::fprintf(stderr, "  %s: accepted\n", what);
}

void refused(const char* what, const std::exception& e) {
  if (verbose()) std::fprintf(stderr, "  %s: refused: %s\n", what, e.what());
}

}  // namespace tg::fuzz
