#include <tapegrad/datasets/idx.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include <tapegrad/backend/tensor.hpp>

namespace tg::data {
namespace {

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& file, std::uint32_t magic) {
  const std::string name = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(name + ": cannot open IDX file");
  in.seekg(0, std::ios::end);
  const auto file_size = std::uint64_t(in.tellg());
  in.seekg(0);

  // The magic first: a wrong file type says more than a wrong size.
  unsigned char m[4];
  if (file_size < 4 || !in.read(reinterpret_cast<char*>(m), 4))
    throw Error(name + ": file has " + std::to_string(file_size) + " bytes, too short for an IDX magic (truncated?)");
  const std::uint32_t got = be32(m);
  if (got != magic)
    throw Error(name + ": byte 0: IDX magic " + hex32(got) + ", expected " + hex32(magic) +
                (magic == kIdxImagesMagic ? " (ubyte images, 3 dims)" : magic == kIdxLabelsMagic ? " (ubyte labels, 1 dim)" : ""));

  const std::size_t ndims = magic & 0xff;
  const std::uint64_t header = 4 + 4 * std::uint64_t(ndims);
  if (file_size < header)
    throw Error(name + ": file has " + std::to_string(file_size) + " bytes, less than the " +
                std::to_string(header) + "-byte IDX header (truncated?)");
  std::vector<unsigned char> head(header);
  in.read(reinterpret_cast<char*>(head.data()) + 4, std::streamsize(header - 4));
  if (!in) throw Error(name + ": read error in the IDX header");

  IdxArray a;
  std::uint64_t count = 1;
  for (std::size_t d = 0; d < ndims; ++d) {
    a.dims.push_back(be32(head.data() + 4 + 4 * d));
    // Three uint32 dims can overflow 64 bits; past the file size the exact
    // product no longer matters, only that it is too big.
    count = count > file_size ? count : count * a.dims.back();
  }
  if (file_size != header + count) {
    std::string dims;
    for (std::size_t d : a.dims) dims += (dims.empty() ? "" : "x") + std::to_string(d);
    throw Error(name + ": file has " + std::to_string(file_size) + " bytes, header promises " +
                std::to_string(header) + "+" + std::to_string(count) + " (" + dims + ") = " +
                std::to_string(header + count) +
                (file_size < header + count ? " (truncated?)" : " (trailing bytes?)"));
  }
  a.data.resize(count);
  in.read(reinterpret_cast<char*>(a.data.data()), std::streamsize(count));
  if (std::uint64_t(in.gcount()) != count)
    throw Error(name + ": read error at byte offset " + std::to_string(header + std::uint64_t(in.gcount())));
  return a;
}

void write_idx(const std::filesystem::path& file, const std::vector<std::size_t>& dims,
               const std::vector<std::uint8_t>& data) {
  std::ofstream out(file, std::ios::binary);
  auto put32 = [&](std::uint32_t v) {
    const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    out.write(b, 4);
  };
  put32(0x00000800u | std::uint32_t(dims.size()));
  for (std::size_t d : dims) put32(std::uint32_t(d));
  out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
  if (!out) throw Error(file.string() + ": cannot write IDX file");
}

}  // namespace tg::data
