// IDX, the MNIST file format: a 4-byte big-endian magic 0x0000TTNN (TT the
// element type, 0x08 = unsigned byte; NN the number of dimensions), NN
// big-endian uint32 dimensions, then the elements row-major.
// Only unsigned-byte files are read: that is all MNIST uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace tg::data {

constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // ubyte, 3 dims (N, rows, cols)
constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // ubyte, 1 dim  (N)

struct IdxArray {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> data;  // prod(dims) bytes, row-major
};

// Reads a whole IDX file and checks that its magic is `magic` and that its
// size is exactly the header plus prod(dims) bytes. Throws tg::Error naming
// the file, the byte offset and the values on any mismatch.
IdxArray read_idx(const std::filesystem::path& file, std::uint32_t magic);

// Writes an IDX ubyte file (tests use it to build small fixtures).
void write_idx(const std::filesystem::path& file, const std::vector<std::size_t>& dims,
               const std::vector<std::uint8_t>& data);

}  // namespace tg::data
