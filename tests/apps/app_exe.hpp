// Helpers of the apps' tests: run a built executable and keep what it wrote,
// measure its help, and poison a checkpoint with one NaN weight.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include <tapegrad/io/safetensors.hpp>
#include "tests/datasets/tmpdir.hpp"  // TmpDir, read_file

namespace tg::test {

struct Exe {
  int code = -1;         // the exit code
  std::string out, err;  // what it wrote to stdout, stderr
};

// Runs `exe args` through the shell.
inline Exe run_exe(const std::string& exe, const std::string& args) {
  const data::test::TmpDir dir;
  const std::string err_path = (dir / "stderr").string();
  const std::string cmd = exe + " " + args + " 2>" + err_path;
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe);
  Exe r;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe)) r.out += buf;
  const int status = ::pclose(pipe);
  REQUIRE(WIFEXITED(status));
  r.code = WEXITSTATUS(status);
  r.err = data::test::read_file(err_path);
  return r;
}

// The length of the longest line of `text`.
inline std::size_t longest_line(const std::string& text) {
  std::istringstream lines(text);
  std::size_t longest = 0;
  for (std::string line; std::getline(lines, line);) longest = std::max(longest, line.size());
  return longest;
}

// Copies the checkpoint `from` to `to` with element `index` of `tensor` (a
// float tensor) set to NaN, around the guard of ckpt::save, which never
// writes a non-finite weight.
inline void write_poisoned_copy(const std::string& from, const std::string& to,
                                const std::string& tensor, std::size_t index) {
  Checkpoint file = load_safetensors(from);
  float* w = reinterpret_cast<float*>(file.tensors.at(tensor).bytes.data());
  w[index] = NAN;
  save_safetensors(to, file);
}

}  // namespace tg::test
