// A two-file package for the fetcher's tests, a downloader that writes it
// without network, and a folder listing.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <tapegrad/datasets/fetch.hpp>
#include "tmpdir.hpp"

namespace tg::data::test {

inline const std::string kHelloSha = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
inline const std::string kWorldSha = "e258d248fda94c63753607f7c4494ee0fcbe92f1a76bfdac795c9d84101eb317";

inline Package fake_package() {
  return Package{"fake",
                 "fake-data@0.0.0",
                 {{"a.bin", "package/a.bin", kHelloSha}, {"b.bin", "package/sub/b.bin", kWorldSha}}};
}

// Writes the package's files with the given contents and counts its calls.
struct FakeDownload {
  std::string a = "hello\n", b = "world\n";
  bool write_b = true;
  int calls = 0;
  Downloader fn() {
    return [this](const Package&, const fs::path& work) {
      ++calls;
      write_file(work / "package/a.bin", a);
      if (write_b) write_file(work / "package/sub/b.bin", b);
    };
  }
};

// Names of everything in dir, hidden files included.
inline std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tg::data::test
