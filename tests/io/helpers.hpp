// Shared by the checkpoint tests (and tests/layers/test_torch_io): a scratch
// directory, raw file I/O, running a command, and the message of the
// tg::Error an expression throws.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include <catch2/catch.hpp>

#include <tapegrad/io/safetensors.hpp>

namespace tg::test {

namespace fs = std::filesystem;

// A fresh directory, removed with everything in it at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static int count = 0;
    path = fs::temp_directory_path() /
           ("tg_ckpt_" + std::to_string(::getpid()) + "_" + std::to_string(count++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs `command` through the shell, stderr merged into stdout, and returns
// its output; the test fails, showing the command and the output, unless it
// exits with status 0.
inline std::string run_ok(const std::string& command) {
  const std::string cmd = command + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = pclose(pipe);
  INFO(cmd << "\n" << out);
  REQUIRE(status == 0);
  return out;
}

// The 8-byte little-endian length, then the header, then the data.
inline std::string safetensors_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

// Same shape and same values (xtensor's == does not go through Catch).
template <class A, class B>
bool same(const A& a, const B& b) {
  return tg::to_shape(a.shape()) == tg::to_shape(b.shape()) && bool(a == b);
}

// The message of the tg::Error that f throws; fails the test if f throws
// nothing or something else.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tg::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected tg::Error, got another exception: " << e.what());
  }
  FAIL("expected tg::Error, nothing was thrown");
  return "";
}

}  // namespace tg::test
