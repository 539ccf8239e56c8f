#include <tapegrad/io/safetensors.hpp>

#include <tapegrad/io/atomic_file.hpp>
#include <tapegrad/io/json_depth.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors stores little-endian data; this code copies bytes as they are");

namespace tg {
namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  std::size_t size;
};
// Same order as enum class DType.
constexpr DTypeInfo kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},   {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},   {DType::U16, "U16", 2}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I32, "I32", 4}, {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},   {DType::I64, "I64", 8}, {DType::U64, "U64", 8},
    {DType::F64, "F64", 8},
};

// --- error messages -------------------------------------------------------

std::string where(const std::string& source) {
  return source.empty() ? std::string("checkpoint") : "checkpoint '" + source + "'";
}

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw Error(where(source) + ": " + what);
}

std::string quoted(const std::string& name) { return "'" + name + "'"; }

std::string range_str(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

// prod(shape) * item size, or false on overflow.
bool byte_size(const Shape& shape, DType dtype, std::uint64_t* out) {
  std::uint64_t n = item_size(dtype);
  for (std::uint64_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::uint64_t>::max() / d) return false;
    n *= d;
  }
  *out = n;
  return true;
}

// Throws unless entry.bytes matches its dtype and shape (hand-built entries).
void check_byte_size(const std::string& source, const std::string& name, const TensorEntry& e) {
  std::uint64_t want = 0;
  if (!byte_size(e.shape, e.dtype, &want) || want != e.bytes.size())
    fail(source, "tensor " + quoted(name) + " holds " + std::to_string(e.bytes.size()) +
                     " bytes, but " + dtype_name(e.dtype) + " shape " + shape_str(e.shape) +
                     " needs " + std::to_string(want));
}

// --- POSIX file helpers ---------------------------------------------------

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads exactly n bytes at offset; throws on error or early end of file.
void read_exact(const std::string& path, int fd, std::uint64_t offset, void* data, std::size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(path, "read at byte " + std::to_string(offset) + ": " + std::strerror(errno));
    if (r == 0) fail(path, "file ended early at byte " + std::to_string(offset));
    p += r;
    offset += static_cast<std::uint64_t>(r);
    n -= static_cast<std::size_t>(r);
  }
}

// --- header ---------------------------------------------------------------

// The 8-byte length and the JSON header, padded with spaces to 8 bytes.
// Fills `order` with the tensors in data-buffer order.
std::string build_header(const Checkpoint& ckpt,
                         std::vector<const std::pair<const std::string, TensorEntry>*>* order) {
  for (const auto& kv : ckpt.tensors) {
    if (kv.first.empty() || kv.first == "__metadata__")
      fail(ckpt.source, "invalid tensor name " + quoted(kv.first));
    check_byte_size(ckpt.source, kv.first, kv.second);
    order->push_back(&kv);
  }
  // Largest items first keeps every tensor aligned to its item size.
  std::stable_sort(order->begin(), order->end(), [](const auto* a, const auto* b) {
    return item_size(a->second.dtype) > item_size(b->second.dtype);
  });

  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!ckpt.metadata.empty()) h["__metadata__"] = ckpt.metadata;
  std::uint64_t offset = 0;
  for (const auto* kv : *order) {
    const TensorEntry& e = kv->second;
    std::uint64_t end = offset + e.bytes.size();
    h[kv->first] = {
        {"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string json;
  try {
    json = h.dump();
  } catch (const nlohmann::json::exception& ex) {  // e.g. a name that is not UTF-8
    fail(ckpt.source, std::string("cannot encode the header: ") + ex.what());
  }
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  return out + json;
}

// A header value for an error message, cut to 80 characters (the header is
// nested at most kMaxJsonDepth deep, so dump() is safe).
std::string shown(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

std::uint64_t unsigned_field(const std::string& path, const std::string& what,
                             const nlohmann::json& v) {
  if (!v.is_number_unsigned()) fail(path, what + " is not a non-negative integer: " + shown(v));
  return v.get<std::uint64_t>();
}

struct Span {
  std::uint64_t begin, end;
  std::string name;
};

// Parses one tensor entry of the header; checks everything but tiling.
Span parse_entry(const std::string& path, const std::string& name, const nlohmann::json& v,
                 std::uint64_t data_size, TensorEntry* e) {
  const std::string t = "tensor " + quoted(name);
  if (!v.is_object()) fail(path, t + ": entry is not a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) fail(path, t + ": missing \"" + key + "\"");

  const auto& d = v["dtype"];
  if (!d.is_string()) fail(path, t + ": \"dtype\" is not a string: " + shown(d));
  if (!parse_dtype(d.get<std::string>(), &e->dtype))
    fail(path, t + ": unknown dtype \"" + d.get<std::string>() + "\"");

  const auto& s = v["shape"];
  if (!s.is_array()) fail(path, t + ": \"shape\" is not an array: " + shown(s));
  for (const auto& dim : s) e->shape.push_back(unsigned_field(path, t + ": shape entry", dim));

  const auto& o = v["data_offsets"];
  if (!o.is_array() || o.size() != 2)
    fail(path, t + ": \"data_offsets\" is not a [begin, end] pair: " + shown(o));
  Span span{unsigned_field(path, t + ": data offset", o[0]),
            unsigned_field(path, t + ": data offset", o[1]), name};
  if (span.begin > span.end)
    fail(path, t + ": data_offsets [" + std::to_string(span.begin) + ", " +
                   std::to_string(span.end) + "] end before they begin");
  if (span.end > data_size)
    fail(path, t + ": data_offsets " + range_str(span.begin, span.end) +
                   " run past the end of the " + std::to_string(data_size) + "-byte data buffer");
  std::uint64_t want = 0;
  if (!byte_size(e->shape, e->dtype, &want))
    fail(path, t + ": shape " + shape_str(e->shape) + " is too large");
  if (span.end - span.begin != want)
    fail(path, t + ": data_offsets " + range_str(span.begin, span.end) + " hold " +
                   std::to_string(span.end - span.begin) + " bytes, but " + dtype_name(e->dtype) +
                   " shape " + shape_str(e->shape) + " needs " + std::to_string(want));
  return span;
}

void parse_metadata(const std::string& path, const nlohmann::json& m, Checkpoint* ckpt) {
  if (!m.is_object()) fail(path, "\"__metadata__\" is not a JSON object");
  for (const auto& kv : m.items()) {
    if (!kv.value().is_string())
      fail(path, "\"__metadata__\" value of " + quoted(kv.key()) + " is not a string");
    ckpt->metadata[kv.key()] = kv.value().get<std::string>();
  }
}

// Throws unless the spans cover [0, data_size) exactly once.
void check_tiling(const std::string& path, std::vector<Span>& spans, std::uint64_t data_size) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t pos = 0;
  const Span* prev = nullptr;
  for (const Span& s : spans) {
    if (s.begin > pos)
      fail(path, "bytes " + range_str(pos, s.begin) +
                     " of the data buffer belong to no tensor (hole before tensor " +
                     quoted(s.name) + ")");
    if (s.begin < pos)
      fail(path, "tensors " + quoted(prev->name) + " " + range_str(prev->begin, prev->end) +
                     " and " + quoted(s.name) + " " + range_str(s.begin, s.end) + " overlap");
    pos = s.end;
    prev = &s;
  }
  if (pos != data_size)
    fail(path, "bytes " + range_str(pos, data_size) +
                   " at the end of the data buffer belong to no tensor");
}

// --- typed access ---------------------------------------------------------

const TensorEntry& find_entry(const Checkpoint& ckpt, const std::string& name) {
  auto it = ckpt.tensors.find(name);
  if (it == ckpt.tensors.end()) fail(ckpt.source, "no tensor named " + quoted(name));
  return it->second;
}

// The entry `name`, checked against T and (if given) a shape.
template <class T>
const TensorEntry& checked_entry(const Checkpoint& ckpt, const std::string& name,
                                 const Shape* expected_shape) {
  const TensorEntry& e = find_entry(ckpt, name);
  if (e.dtype != dtype_of<T>())
    fail(ckpt.source, "tensor " + quoted(name) + ": dtype " + dtype_name(e.dtype) + ", expected " +
                          dtype_name(dtype_of<T>()) + " (no implicit conversion)");
  if (expected_shape && e.shape != *expected_shape)
    fail(ckpt.source, "tensor " + quoted(name) + ": shape " + shape_str(e.shape) + ", expected " +
                          shape_str(*expected_shape));
  check_byte_size(ckpt.source, name, e);
  return e;
}

void copy_bytes(void* dst, const TensorEntry& e) {
  if (!e.bytes.empty()) std::memcpy(dst, e.bytes.data(), e.bytes.size());
}

}  // namespace

// --- dtypes ---------------------------------------------------------------

const char* dtype_name(DType d) { return kDTypes[static_cast<int>(d)].name; }
std::size_t item_size(DType d) { return kDTypes[static_cast<int>(d)].size; }

bool parse_dtype(const std::string& s, DType* out) {
  for (const auto& info : kDTypes)
    if (s == info.name) {
      *out = info.dtype;
      return true;
    }
  return false;
}

// --- save / load ----------------------------------------------------------

void save_safetensors(const std::string& path, const Checkpoint& ckpt) {
  std::vector<const std::pair<const std::string, TensorEntry>*> order;
  const std::string header = build_header(ckpt, &order);
  std::vector<std::string_view> pieces{header};
  for (const auto* entry : order) {
    const auto& bytes = entry->second.bytes;
    pieces.emplace_back(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  io::write_file_atomic(path, pieces);
}

Checkpoint load_safetensors(const std::string& path) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0) fail(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (size < 8)
    fail(path, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");

  unsigned char len[8];
  read_exact(path, f.fd, 0, len, 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  if (n > size - 8)
    fail(path, "header length " + std::to_string(n) + " is larger than the " +
                   std::to_string(size - 8) + " bytes that follow it");

  std::string text(n, '\0');
  read_exact(path, f.fd, 8, text.data(), text.size());
  if (const std::size_t at = json_too_deep(text); at != std::string::npos)
    fail(path, "header nests arrays/objects deeper than " + std::to_string(kMaxJsonDepth) +
                   " levels (byte " + std::to_string(8 + at) + ")");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& ex) {
    fail(path, std::string("header is not valid JSON: ") + ex.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");

  Checkpoint ckpt;
  ckpt.source = path;
  const std::uint64_t data_size = size - 8 - n;
  std::vector<Span> spans;
  for (const auto& kv : header.items()) {
    if (kv.key() == "__metadata__") {
      parse_metadata(path, kv.value(), &ckpt);
      continue;
    }
    TensorEntry e;
    spans.push_back(parse_entry(path, kv.key(), kv.value(), data_size, &e));
    ckpt.tensors[kv.key()] = std::move(e);
  }
  check_tiling(path, spans, data_size);

  for (const Span& s : spans) {
    TensorEntry& e = ckpt.tensors[s.name];
    e.bytes.resize(s.end - s.begin);
    read_exact(path, f.fd, 8 + n + s.begin, e.bytes.data(), e.bytes.size());
  }
  return ckpt;
}

// --- typed access ---------------------------------------------------------

template <class T>
void put(Checkpoint& ckpt, const std::string& name, const Tensor<T>& value) {
  if (name.empty() || name == "__metadata__")
    fail(ckpt.source, "invalid tensor name " + quoted(name));
  TensorEntry e;
  e.dtype = dtype_of<T>();
  e.shape = to_shape(value.shape());
  e.bytes.resize(value.size() * sizeof(T));
  if (!e.bytes.empty()) std::memcpy(e.bytes.data(), value.data(), e.bytes.size());
  ckpt.tensors[name] = std::move(e);
}

template <class T>
Tensor<T> get(const Checkpoint& ckpt, const std::string& name) {
  const TensorEntry& e = checked_entry<T>(ckpt, name, nullptr);
  Tensor<T> t = Tensor<T>::from_shape(e.shape);
  copy_bytes(t.data(), e);
  return t;
}

template <class T>
Tensor<T> get(const Checkpoint& ckpt, const std::string& name, const Shape& expected_shape) {
  const TensorEntry& e = checked_entry<T>(ckpt, name, &expected_shape);
  Tensor<T> t = Tensor<T>::from_shape(e.shape);
  copy_bytes(t.data(), e);
  return t;
}

void check_names(const Checkpoint& ckpt, const std::vector<std::string>& expected) {
  const std::set<std::string> want(expected.begin(), expected.end());
  std::string missing, unexpected;
  for (const auto& name : want)
    if (!ckpt.tensors.count(name)) missing += (missing.empty() ? "" : ", ") + quoted(name);
  for (const auto& kv : ckpt.tensors)
    if (!want.count(kv.first)) unexpected += (unexpected.empty() ? "" : ", ") + quoted(kv.first);
  if (missing.empty() && unexpected.empty()) return;
  std::string msg = "tensor names do not match:";
  if (!missing.empty()) msg += " missing " + missing + ";";
  if (!unexpected.empty()) msg += " unexpected " + unexpected + ";";
  msg.pop_back();
  fail(ckpt.source, msg);
}

template <class T>
void load_into(const Checkpoint& ckpt,
               const std::vector<std::pair<std::string, Tensor<T>*>>& targets, bool strict) {
  std::vector<const TensorEntry*> entries;
  std::vector<std::string> names;
  for (const auto& [name, dst] : targets) {
    if (!dst) fail(ckpt.source, "load_into: the target of tensor " + quoted(name) + " is null");
    const Shape shape = to_shape(dst->shape());
    entries.push_back(&checked_entry<T>(ckpt, name, &shape));
    names.push_back(name);
  }
  if (strict) check_names(ckpt, names);
  // Everything checked: now copy.
  for (std::size_t i = 0; i < targets.size(); ++i)
    copy_bytes(targets[i].second->data(), *entries[i]);
}

#define TG_CHECKPOINT_INSTANTIATE(T)                                              \
  template void put<T>(Checkpoint&, const std::string&, const Tensor<T>&);        \
  template Tensor<T> get<T>(const Checkpoint&, const std::string&);               \
  template Tensor<T> get<T>(const Checkpoint&, const std::string&, const Shape&); \
  template void load_into<T>(const Checkpoint&,                                   \
                             const std::vector<std::pair<std::string, Tensor<T>*>>&, bool);
TG_CHECKPOINT_INSTANTIATE(float)
TG_CHECKPOINT_INSTANTIATE(double)
TG_CHECKPOINT_INSTANTIATE(std::int64_t)
TG_CHECKPOINT_INSTANTIATE(std::int32_t)
TG_CHECKPOINT_INSTANTIATE(std::uint8_t)
#undef TG_CHECKPOINT_INSTANTIATE

}  // namespace tg
