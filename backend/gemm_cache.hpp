// The file that keeps GemmChooser's measurements between processes:
//
//   {"machine": "AMD-EPYC-haswell-l2-512",
//    "classes": {"NN m64 n512 k128": {"backend": "own", "shape": [50, 512, 128],
//                                     "own_us": 21.3, "openblas_us": 27.0}, ...}}
//
// A class key names the transpose case and the bounds m, n, k round up to.
// Written whole to a temp file and renamed over the old one; a writer holds
// an flock on FILE.lock from reading the file to renaming the new one, so two
// processes never measure the same class differently. The lock is waited for
// a few seconds at most: a holder that is stopped (Ctrl-Z, SIGSTOP) or stuck
// must not hang every other run on the machine.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace tg::blas::gemm_cache {

struct Entry {
  bool own = false;
  int m = 0, n = 0, k = 0;  // the shape that was timed
  double own_us = 0, openblas_us = 0;
};
using Entries = std::map<std::string, Entry>;

struct Loaded {
  Entries entries;
  std::string problem;  // why the file was ignored, or "" (a missing file is no problem)
};

// CPU model and OpenBLAS core (with OPENBLAS_L2_SIZE when set), for file names.
std::string machine();
// $TAPEGRAD_CACHE/gemm-<machine>.json, else under ${XDG_CACHE_HOME:-~/.cache}/tapegrad;
// "" when none of these is set.
std::string default_path();

// "NT m64 n128 k512" for a table index of GemmChooser, and back (-1: not a key).
std::string class_key(int index);
int class_index(const std::string& key);

Loaded load(const std::string& path);
// Throws tg::Error naming the path and the system's reason (the errno of the
// call that failed, e.g. "Permission denied") on failure.
void store(const std::string& path, const Entries& entries);

// An exclusive flock on PATH.lock for its lifetime, polled for at most
// `wait`. held() is false when the lock file cannot be opened (a read-only
// folder: work on without it) or when another process held the lock all
// that time (timed_out(): measure without the cache); problem() says which.
// A lock file left behind, or one whose holder died, never blocks: the
// kernel drops an flock when its holder's descriptor closes.
class Lock {
 public:
  Lock(const std::string& path, std::chrono::milliseconds wait);
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  bool held() const { return fd_ >= 0; }
  bool timed_out() const { return timed_out_; }
  const std::string& problem() const { return problem_; }

 private:
  int fd_ = -1;
  bool timed_out_ = false;
  std::string problem_;
};

}  // namespace tg::blas::gemm_cache
