// A tiny MNIST of one's own, in IDX files, for tests that run mnist_rnn
// --own-data on it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace tg::test {

inline void put_u32(std::ofstream& out, std::uint32_t v) {
  const unsigned char b[4] = {std::uint8_t(v >> 24), std::uint8_t(v >> 16), std::uint8_t(v >> 8),
                              std::uint8_t(v)};
  out.write(reinterpret_cast<const char*>(b), 4);
}

// n noise images with random labels: `prefix`-images-idx3-ubyte and
// `prefix`-labels-idx1-ubyte in `dir` ("train" and "t10k" make a dataset).
inline void write_mnist_split(const std::filesystem::path& dir, const std::string& prefix,
                              std::uint32_t n, std::mt19937& rng) {
  std::ofstream images(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary);
  put_u32(images, 0x803);
  put_u32(images, n);
  put_u32(images, 28);
  put_u32(images, 28);
  for (std::uint32_t i = 0; i < n * 784; ++i) images.put(char(rng() % 256));
  std::ofstream labels(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
  put_u32(labels, 0x801);
  put_u32(labels, n);
  for (std::uint32_t i = 0; i < n; ++i) labels.put(char(rng() % 10));
}

}  // namespace tg::test
