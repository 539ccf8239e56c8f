// SHA-256 (FIPS 180-4), written here so that verifying a download needs no
// crypto library. Used only to check files against known digests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tg::data {

// Incremental hasher: update() any number of times, then hex() once.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t n);
  // Lower-case hex digest, 64 characters. Finishes the hash: call once.
  std::string hex();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_;
  std::size_t buffered_ = 0;
  std::uint64_t total_ = 0;  // bytes fed so far
};

std::string sha256_hex(std::string_view bytes);
// Throws tg::Error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace tg::data
