// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors):
//
//   [8 bytes]  N, little-endian u64: length of the JSON header
//   [N bytes]  JSON: {"__metadata__": {"k": "v"},
//                     "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}, ...}
//              padded with spaces so that 8 + N is a multiple of 8
//   [rest]     data buffer: each tensor's row-major little-endian bytes at
//              [b, e), offsets relative to the start of the buffer; the
//              tensors tile the buffer exactly (no holes, no overlaps).
//
// Saving is atomic (temp file, fsync, rename); loading validates every field
// and throws tg::Error naming the file and the problem. Values are never
// converted between dtypes: asking for float from an F64 tensor is an error.
// See docs/checkpoints.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapegrad/backend/tensor.hpp>

namespace tg {

// The safetensors dtypes we can store and load (F8 variants are rejected).
// Typed access (put/get/load_into) exists for F32, F64, I64, I32 and U8;
// the others round-trip as raw bytes.
enum class DType { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64 };

const char* dtype_name(DType d);                     // "F32"
std::size_t item_size(DType d);                      // 4
bool parse_dtype(const std::string& s, DType* out);  // false if unknown

// The DType of a C++ scalar type with typed access: dtype_of<float>() == F32.
template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::F32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::F64;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::I64;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return DType::I32;
  else {
    static_assert(std::is_same_v<T, std::uint8_t>, "no safetensors dtype for this type");
    return DType::U8;
  }
}

// One stored tensor: dtype, shape, and its row-major little-endian bytes.
// bytes.size() == shape_size(shape) * item_size(dtype); a 0-d tensor
// (shape {}) holds one element.
struct TensorEntry {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<std::uint8_t> bytes;
};

// Named tensors (sorted by name) plus string metadata. `source` is the file
// a checkpoint was loaded from; error messages name it.
struct Checkpoint {
  std::map<std::string, TensorEntry> tensors;
  std::map<std::string, std::string> metadata;
  std::string source;
};

// Writes `path` atomically: `path.tmp.<pid>` is written, fsync'ed and renamed
// over `path`. On failure the temp file is removed, `path` is untouched, and
// tg::Error names the path and the errno text. Tensors are laid out by
// decreasing item size, then by name, so every tensor is aligned.
void save_safetensors(const std::string& path, const Checkpoint& ckpt);

// Reads and validates the whole file; throws tg::Error on anything malformed
// (truncation, bad JSON, missing/unknown fields, offsets out of bounds,
// size != prod(shape) * item size, holes or overlaps in the data buffer).
Checkpoint load_safetensors(const std::string& path);

// Stores a copy of `value` under `name` (replacing any tensor of that name).
template <class T>
void put(Checkpoint& ckpt, const std::string& name, const Tensor<T>& value);

// The tensor `name` as Tensor<T>. Throws if it is missing or its dtype is not
// dtype_of<T>() (no silent conversion).
template <class T>
Tensor<T> get(const Checkpoint& ckpt, const std::string& name);

// As above, and also throws unless its shape is `expected_shape`.
template <class T>
Tensor<T> get(const Checkpoint& ckpt, const std::string& name, const Shape& expected_shape);

// Throws unless the checkpoint holds exactly the tensors `expected`; the
// message lists the missing names and the unexpected ones.
void check_names(const Checkpoint& ckpt, const std::vector<std::string>& expected);

// Copies each named tensor into the existing tensor it points at. Every
// target is checked first (present, dtype, shape equal to the target's
// current shape; with `strict`, no other tensors in the checkpoint), so on
// error nothing has been modified.
template <class T>
void load_into(const Checkpoint& ckpt,
               const std::vector<std::pair<std::string, Tensor<T>*>>& targets, bool strict = true);

}  // namespace tg
