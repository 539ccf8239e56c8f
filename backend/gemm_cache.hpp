// The file that keeps GemmChooser's measurements between processes:
//
//   {"machine": "AMD-EPYC-haswell-l2-512",
//    "classes": {"NN m64 n512 k128": {"backend": "own", "shape": [50, 512, 128],
//                                     "own_us": 21.3, "openblas_us": 27.0}, ...}}
//
// A class key names the transpose case and the bounds m, n, k round up to.
// Written whole to a temp file and renamed over the old one; a writer holds
// an flock on FILE.lock from reading the file to renaming the new one, so two
// processes never measure the same class differently.
#pragma once

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
// Throws tg::Error naming the path on failure.
void store(const std::string& path, const Entries& entries);

// An exclusive flock on PATH.lock for its lifetime; held() is false when the
// lock file cannot be opened (a read-only folder): work on without it.
class Lock {
 public:
  explicit Lock(const std::string& path);
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace tg::blas::gemm_cache
