// Fuzz target: checkpoint files. load_safetensors validates the whole file
// (header length, JSON, dtypes, shapes, offsets, tiling); a file it accepts
// must hold consistent tensors, each readable with get<T> in its own dtype.
// ckpt::read_meta then reads the same file's "tapegrad" metadata as JSON,
// which must come back nested at most kMaxJsonDepth deep.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/io/json_depth.hpp>
#include <tapegrad/io/safetensors.hpp>
#include "fuzz/fuzz_input.hpp"

namespace {

// Every tensor stored as T, read back through the typed accessor.
template <class T>
void get_all(const tg::Checkpoint& ckpt) {
  for (const auto& [name, entry] : ckpt.tensors) {
    if (entry.dtype != tg::dtype_of<T>()) continue;
    const tg::Tensor<T> t = tg::get<T>(ckpt, name, entry.shape);
    tg::fuzz::check(t.size() * sizeof(T) == entry.bytes.size(), "get<T> size != stored bytes");
  }
}

void check_loaded(const tg::Checkpoint& ckpt, std::size_t file_size) {
  std::size_t total = 0;
  for (const auto& [name, entry] : ckpt.tensors) {
    std::size_t want = tg::item_size(entry.dtype);
    for (std::size_t d : entry.shape) want *= d;  // bounded by the file size when accepted
    tg::fuzz::check(name != "__metadata__", "accepted the reserved name __metadata__ as a tensor");
    tg::fuzz::check(entry.bytes.size() == want, "tensor bytes != prod(shape) * item size");
    total += entry.bytes.size();
  }
  tg::fuzz::check(total <= file_size, "tensors hold more bytes than the file");
  get_all<float>(ckpt);
  get_all<double>(ckpt);
  get_all<std::int64_t>(ckpt);
  get_all<std::int32_t>(ckpt);
  get_all<std::uint8_t>(ckpt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = tg::fuzz::temp_path("ckpt.safetensors");
  tg::fuzz::write_file(path, data, size);
  tg::fuzz::attempt("load_safetensors", [&] { check_loaded(tg::load_safetensors(path), size); });
  tg::fuzz::attempt("read_meta", [&] {
    const tg::ckpt::Json meta = tg::ckpt::read_meta(path);
    tg::fuzz::check(meta.is_object(), "read_meta returned a non-object");
    // The apps copy and print it: both recurse once per level.
    tg::fuzz::check(tg::json_too_deep(meta.dump()) == std::string::npos,
                    "read_meta returned metadata nested deeper than kMaxJsonDepth");
  });
  return 0;
}
