// Fuzz target: IDX files (MNIST). read_idx checks the magic and that the
// file is exactly the header plus prod(dims) bytes, so a header that
// promises more than the file holds is refused before anything is
// allocated. The input is read as an image file and as a label file.
#include <cstddef>
#include <cstdint>
#include <string>

#include <tapegrad/datasets/idx.hpp>
#include "fuzz/fuzz_input.hpp"

namespace {

void read_as(const char* what, const std::string& path, std::uint32_t magic, std::size_t file_size) {
  tg::fuzz::attempt(what, [&] {
    const tg::data::IdxArray a = tg::data::read_idx(path, magic);
    std::size_t n = 1;
    for (std::size_t d : a.dims) n *= d;
    tg::fuzz::check(a.dims.size() == (magic & 0xff), "wrong number of dims");
    tg::fuzz::check(a.data.size() == n, "data size != prod(dims)");
    tg::fuzz::check(4 + 4 * a.dims.size() + n == file_size, "accepted a file of the wrong size");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = tg::fuzz::temp_path("data-idx-ubyte");
  tg::fuzz::write_file(path, data, size);
  read_as("images", path, tg::data::kIdxImagesMagic, size);
  read_as("labels", path, tg::data::kIdxLabelsMagic, size);
  return 0;
}
