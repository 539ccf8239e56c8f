// Scratch folders and files for the slots tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace tg::slots::test {

// A fresh folder under the system temp dir, removed with its contents.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("tg_slots_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
};

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// $TAPEGRAD_SHARED/data/atis, or "" when absent.
inline std::string atis_dir() {
  const char* shared = std::getenv("TAPEGRAD_SHARED");
  if (!shared) return "";
  const auto dir = std::filesystem::path(shared) / "data" / "atis";
  return std::filesystem::is_directory(dir) ? dir.string() : "";
}

}  // namespace tg::slots::test
