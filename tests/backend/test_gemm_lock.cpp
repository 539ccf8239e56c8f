// The gemm cache's lock and its writer under hostile conditions
// (backend/gemm_cache.hpp): a holder that is stopped, a holder that died, a
// lock file left behind, a folder this process may not write.
// A regression here hangs the run: CMake gives these tests a short TIMEOUT.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <string>

#include <tapegrad/backend/gemm_cache.hpp>
#include <tapegrad/backend/gemm_choice.hpp>
#include <tapegrad/backend/sgemm_avx512.hpp>
#include <tapegrad/backend/tensor.hpp>

#include "tests/backend/capture_cerr.hpp"
#include "tests/datasets/tmpdir.hpp"  // TmpDir

namespace {

using namespace tg::blas;
using Catch::Matchers::Contains;
using tg::blas::test::CaptureCerr;
using tg::data::test::TmpDir;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

// A child process that takes the flock on PATH.lock, as a run measuring
// would, and then stops itself (a first run suspended with Ctrl-Z). Killed
// by the destructor: its lock goes with it.
class LockHolder {
 public:
  explicit LockHolder(const std::string& path) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives a test killed by its timeout
      const int fd = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT, 0666);
      if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
      if (::write(fds[1], "x", 1) != 1) ::_exit(1);
      ::raise(SIGSTOP);
      ::pause();
      ::_exit(0);
    }
    ::close(fds[1]);
    char c = 0;
    const bool locked = ::read(fds[0], &c, 1) == 1;
    ::close(fds[0]);
    REQUIRE(locked);
  }
  ~LockHolder() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;

 private:
  pid_t pid_ = -1;
};

// What `body` prints on stderr in a child process that runs as an ordinary
// user (root passes every permission check; "nobody" does not).
std::string stderr_of_unprivileged(const std::function<void()>& body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 2);
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
      ::_exit(3);
    body();
    std::cerr.flush();
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, std::size_t(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return text;
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("gemm cache lock: held by a stopped process, it is waited for briefly, then the run measures uncached and says so once",
          "[blas][lock]") {
  TmpDir dir;
  const std::string file = (dir / "gemm.json").string();
  LockHolder holder(file);
  {
    gemm_cache::Lock lock(file, milliseconds(100));
    CHECK_FALSE(lock.held());
    CHECK(lock.timed_out());
    CHECK_THAT(lock.problem(), Contains(file + ".lock"));
  }
  if (!avx512::supported()) return;  // OpenBLAS always: nothing is measured
  CaptureCerr err;
  GemmChooser chooser(GemmMode::automatic, file, milliseconds(200));
  CHECK(chooser.backend_for(false, false, 50, 128, 128) != Backend::unknown);
  CHECK(chooser.backend_for(false, true, 50, 128, 128) != Backend::unknown);
  CHECK(chooser.measured() == 2);
  CHECK_THAT(err.text(), Contains(file + ".lock") && Contains("without the gemm cache"));
  CHECK(count(err.text(), "tapegrad:") == 1);
  CHECK_FALSE(fs::exists(file));  // written only under the lock
}

TEST_CASE("gemm cache lock: a lock file left behind, or one whose holder was killed, does not block", "[blas][lock]") {
  TmpDir dir;
  const std::string file = (dir / "gemm.json").string();
  { LockHolder killed(file); }  // leaves gemm.json.lock behind
  REQUIRE(fs::exists(file + ".lock"));
  gemm_cache::Lock lock(file, milliseconds(0));
  CHECK(lock.held());
  CHECK_FALSE(lock.timed_out());
  CHECK(lock.problem().empty());
}

TEST_CASE("gemm cache: an unwritable cache folder is reported with its real cause", "[blas]") {
  TmpDir dir;
  const fs::path ro = dir / "ro";
  fs::create_directories(ro);
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                          fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  for (const fs::path& file : {ro / "gemm.json", ro / "sub" / "gemm.json"}) {
    INFO(file);
    const std::string said = stderr_of_unprivileged([&] {
      gemm_cache::Entries one;
      one["NN m64 n128 k128"] = gemm_cache::Entry{false, 50, 128, 128, 1, 2};
      try {
        gemm_cache::store(file.string(), one);
      } catch (const std::exception& e) {
        std::cerr << e.what();
      }
    });
    CHECK_THAT(said, Contains("Permission denied") && Contains(file.parent_path().string()));
    CHECK_THAT(said, !Contains("No such file"));
  }
  CHECK(fs::is_empty(ro));
}
