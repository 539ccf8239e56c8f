// Every malformed file gives a tg::Error naming the file and the problem;
// truncated or scrambled files never crash the reader.
#include <random>

#include "helpers.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using namespace tg::test;

namespace {

// Writes the bytes to a file and returns the message load_safetensors throws.
std::string load_error(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, bytes);
  std::string msg = error_of([&] { tg::load_safetensors(path); });
  CHECK_THAT(msg, Contains(path));
  return msg;
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}";
}

}  // namespace

TEST_CASE("corrupt files: length field and JSON") {
  TempDir dir;
  CHECK_THAT(load_error(dir, "abcde"), Contains("5 bytes, shorter than the 8-byte header length"));
  CHECK_THAT(load_error(dir, ""), Contains("0 bytes"));
  std::string big = safetensors_bytes("{}", "");
  big[1] = '\x10';  // 4098
  CHECK_THAT(load_error(dir, big), Contains("header length 4098 is larger than the 2 bytes"));
  CHECK_THAT(load_error(dir, safetensors_bytes("{\"a\": ", "")), Contains("not valid JSON"));
  CHECK_THAT(load_error(dir, safetensors_bytes("{} x", "")), Contains("not valid JSON"));
  CHECK_THAT(load_error(dir, safetensors_bytes("[1, 2]", "")), Contains("not a JSON object"));
  CHECK_THAT(load_error(dir, safetensors_bytes("{\"__metadata__\": {\"k\": 1}}", "")),
             Contains("\"__metadata__\" value of 'k' is not a string"));
  CHECK_THAT(load_error(dir, safetensors_bytes("{\"__metadata__\": []}", "")),
             Contains("\"__metadata__\" is not a JSON object"));
}

TEST_CASE("corrupt files: entries with missing or wrong fields") {
  TempDir dir;
  const std::string data(8, '\0');
  auto one = [&](const std::string& e) {
    return load_error(dir, safetensors_bytes("{" + e + "}", data));
  };
  CHECK_THAT(one(R"("w": 3)"), Contains("tensor 'w': entry is not a JSON object"));
  CHECK_THAT(one(R"("w": {"shape": [2], "data_offsets": [0, 8]})"),
             Contains("tensor 'w': missing \"dtype\""));
  CHECK_THAT(one(R"("w": {"dtype": "F32", "data_offsets": [0, 8]})"),
             Contains("tensor 'w': missing \"shape\""));
  CHECK_THAT(one(R"("w": {"dtype": "F32", "shape": [2]})"),
             Contains("tensor 'w': missing \"data_offsets\""));
  CHECK_THAT(one(entry("w", "Q4", "[2]", "[0,8]")), Contains("tensor 'w': unknown dtype \"Q4\""));
  CHECK_THAT(one(R"("w": {"dtype": 4, "shape": [2], "data_offsets": [0, 8]})"),
             Contains("\"dtype\" is not a string"));
  CHECK_THAT(one(entry("w", "F32", "[-2]", "[0,8]")),
             Contains("shape entry is not a non-negative integer: -2"));
  CHECK_THAT(one(entry("w", "F32", "[2.0]", "[0,8]")),
             Contains("shape entry is not a non-negative integer"));
  CHECK_THAT(one(entry("w", "F32", "2", "[0,8]")), Contains("\"shape\" is not an array"));
  CHECK_THAT(one(entry("w", "F32", "[2]", "[0]")),
             Contains("\"data_offsets\" is not a [begin, end] pair"));
  CHECK_THAT(one(entry("w", "F32", "[2]", "[8,0]")),
             Contains("data_offsets [8, 0] end before they begin"));
  CHECK_THAT(
      one(entry("w", "F32", "[4]", "[0,16]")),
      Contains("tensor 'w': data_offsets [0, 16) run past the end of the 8-byte data buffer"));
  CHECK_THAT(one(entry("w", "F32", "[3]", "[0,8]")),
             Contains("tensor 'w': data_offsets [0, 8) hold 8 bytes, but F32 shape (3,) needs 12"));
  CHECK_THAT(one(entry("w", "F64", "[4611686018427387904,8]", "[0,8]")), Contains("is too large"));
}

TEST_CASE("corrupt files: JSON nested too deep is refused before it is shown") {
  // nlohmann::json prints and copies recursively: a shape entry nested
  // 300,000 deep overflowed the stack when the error message showed it.
  TempDir dir;
  const std::string data(8, '\0');
  auto nested = [](std::size_t n) { return std::string(n, '[') + std::string(n, ']'); };
  const std::string deep = "{" + entry("w", "U8", "[" + nested(300000) + "]", "[0,8]") + "}";
  // '{' and '{' are levels 1 and 2, the shape's '[' level 3: level 65 is 62 later.
  CHECK_THAT(load_error(dir, safetensors_bytes(deep, data)),
             Contains("header nests arrays/objects deeper than 64 levels (byte " +
                      std::to_string(8 + deep.find('[') + 62) + ")"));
  // 64 levels are read, and the value shown cut short.
  const std::string msg = load_error(
      dir, safetensors_bytes("{" + entry("w", "U8", "[" + nested(61) + "]", "[0,8]") + "}", data));
  CHECK_THAT(msg, Contains("shape entry is not a non-negative integer: [[[["));
  CHECK_THAT(msg, EndsWith("]]]..."));
}

TEST_CASE("corrupt files: holes and overlaps in the data buffer") {
  TempDir dir;
  const std::string data(12, '\0');
  auto load = [&](const std::string& a, const std::string& b) {
    return load_error(dir, safetensors_bytes("{" + a + "," + b + "}", data));
  };
  CHECK_THAT(load(entry("a", "F32", "[2]", "[0,8]"), entry("b", "F32", "[2]", "[4,12]")),
             Contains("tensors 'a' [0, 8) and 'b' [4, 12) overlap"));
  CHECK_THAT(
      load(entry("a", "F32", "[1]", "[0,4]"), entry("b", "F32", "[1]", "[8,12]")),
      Contains("bytes [4, 8) of the data buffer belong to no tensor (hole before tensor 'b')"));
  CHECK_THAT(load(entry("a", "F32", "[1]", "[0,4]"), entry("b", "F32", "[1]", "[4,8]")),
             Contains("bytes [8, 12) at the end of the data buffer belong to no tensor"));
  CHECK_THAT(load_error(dir, safetensors_bytes("{}", "xx")), Contains("bytes [0, 2) at the end"));
  // Tensors may be listed in any order and need no padding; this one is fine.
  const std::string ok = safetensors_bytes(
      "{" + entry("b", "F32", "[1]", "[8,12]") + "," + entry("a", "F64", "[]", "[0,8]") + "}",
      data);
  write_bytes(dir.file("ok"), ok);
  CHECK(tg::load_safetensors(dir.file("ok")).tensors.size() == 2);
}

TEST_CASE("corrupt files: missing file and directories") {
  TempDir dir;
  std::string msg = error_of([&] { tg::load_safetensors(dir.file("nope")); });
  CHECK_THAT(msg, Contains(dir.file("nope")) && Contains("No such file or directory"));
  msg = error_of([&] { tg::load_safetensors(dir.path.string()); });
  CHECK_THAT(msg, Contains("not a regular file"));
}

TEST_CASE("fuzz: every truncation fails cleanly, flipped header bytes never crash") {
  TempDir dir;
  tg::Checkpoint ckpt;
  ckpt.metadata["k"] = "v";
  tg::put(ckpt, "w", tg::Tensor<float>{{1, 2}, {3, 4}});
  tg::put(ckpt, "b", tg::Tensor<double>{5, 6});
  const std::string path = dir.file("small.safetensors");
  tg::save_safetensors(path, ckpt);
  const std::string good = read_bytes(path);

  for (std::size_t len = 0; len < good.size(); ++len) {
    write_bytes(path, good.substr(0, len));
    INFO("truncated to " << len << " of " << good.size() << " bytes");
    CHECK_THAT(error_of([&] { tg::load_safetensors(path); }), Contains(path));
  }

  std::mt19937 rng(12345);
  const std::size_t header_end = 8 + (good[0] & 0xff);
  int loaded = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bad = good;
    const int flips = 1 + trial % 3;
    for (int i = 0; i < flips; ++i) {
      std::size_t at = rng() % header_end;
      bad[at] = static_cast<char>(bad[at] ^ (1 << (rng() % 8)));
    }
    write_bytes(path, bad);
    INFO("trial " << trial);
    try {
      tg::load_safetensors(path);
      ++loaded;  // e.g. a flipped letter in a name or in the padding
    } catch (const tg::Error&) {
      ++rejected;
    }  // anything else escapes and fails the test
  }
  CHECK(rejected > 2500);
  CHECK(loaded + rejected == 3000);
}
