// Round trips, the exact bytes we write, and typed access with its errors.
#include <cstdint>

#include "helpers.hpp"

using Catch::Matchers::Contains;
using tg::Checkpoint;
using tg::Tensor;
using namespace tg::test;

TEST_CASE("save then load round-trips dtypes, shapes and metadata") {
  TempDir dir;
  Checkpoint ckpt;
  ckpt.metadata = {{"epoch", "3"}, {"note", "quote \" newline \n unicode \xc3\xa9"}, {"", ""}};
  Tensor<float> w = {{1.5f, -2.0f, 3.25f}, {0.0f, 1e-30f, -7.0f}};
  Tensor<double> b = {0.1, -1e300, 4.0, 5.5};
  Tensor<std::int64_t> step = Tensor<std::int64_t>::from_shape({});  // 0-d
  step() = -9000000000LL;
  Tensor<float> empty = Tensor<float>::from_shape({0, 3});
  Tensor<std::int32_t> ids = {{{1, -2}}, {{3, 4}}};  // (2, 1, 2)
  Tensor<std::uint8_t> mask = {0, 255, 7};
  tg::put(ckpt, "lstm.weight", w);
  tg::put(ckpt, "lstm.bias", b);
  tg::put(ckpt, "step", step);
  tg::put(ckpt, "empty", empty);
  tg::put(ckpt, "ids", ids);
  tg::put(ckpt, "mask", mask);
  // A dtype without typed access round-trips as raw bytes.
  ckpt.tensors["half"] = {tg::DType::BF16, {2}, {0x80, 0x3f, 0x00, 0xc0}};

  const std::string path = dir.file("model.safetensors");
  tg::save_safetensors(path, ckpt);
  Checkpoint back = tg::load_safetensors(path);

  CHECK(back.source == path);
  CHECK(back.metadata == ckpt.metadata);
  CHECK(back.tensors.size() == 7);
  CHECK(same(tg::get<float>(back, "lstm.weight", {2, 3}), w));
  CHECK(same(tg::get<double>(back, "lstm.bias", {4}), b));
  Tensor<std::int64_t> step_back = tg::get<std::int64_t>(back, "step", {});
  CHECK(step_back.dimension() == 0);
  CHECK(step_back() == -9000000000LL);
  CHECK(tg::get<float>(back, "empty", {0, 3}).size() == 0);
  CHECK(same(tg::get<std::int32_t>(back, "ids", {2, 1, 2}), ids));
  CHECK(same(tg::get<std::uint8_t>(back, "mask"), mask));
  CHECK(back.tensors.at("half").dtype == tg::DType::BF16);
  CHECK(back.tensors.at("half").bytes == ckpt.tensors.at("half").bytes);

  // Saving what we loaded gives the same bytes: the layout is deterministic.
  const std::string again = dir.file("again.safetensors");
  tg::save_safetensors(again, back);
  CHECK(read_bytes(again) == read_bytes(path));
}

TEST_CASE("an empty checkpoint round-trips") {
  TempDir dir;
  tg::save_safetensors(dir.file("e"), Checkpoint{});
  CHECK(read_bytes(dir.file("e")) == safetensors_bytes("{}      ", ""));
  Checkpoint back = tg::load_safetensors(dir.file("e"));
  CHECK(back.tensors.empty());
  CHECK(back.metadata.empty());
}

TEST_CASE("the bytes of a tiny file match a hand-built byte string") {
  TempDir dir;
  Checkpoint ckpt;
  ckpt.metadata["k"] = "v";
  tg::put(ckpt, "a", Tensor<float>{1.0f, -2.0f});
  Tensor<std::int64_t> n = Tensor<std::int64_t>::from_shape({});
  n() = 3;
  tg::put(ckpt, "n", n);
  tg::save_safetensors(dir.file("tiny"), ckpt);

  // 8-byte items first (n), then 4-byte ones (a); 132 bytes of JSON padded
  // with 4 spaces to 136 = 0x88.
  const std::string json = R"({"__metadata__":{"k":"v"},)"
                           R"("n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                           R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})"
                           "    ";
  REQUIRE(json.size() == 136);
  const std::string expected = std::string("\x88\0\0\0\0\0\0\0", 8) + json +
                               std::string("\x03\0\0\0\0\0\0\0", 8) +  // I64 3
                               std::string("\0\0\x80\x3f", 4) +        // F32 1.0
                               std::string("\0\0\0\xc0", 4);           // F32 -2.0
  CHECK(read_bytes(dir.file("tiny")) == expected);
}

TEST_CASE("get names the missing tensor, the dtype and the shape that do not match") {
  Checkpoint ckpt;
  ckpt.source = "m.safetensors";
  tg::put(ckpt, "lstm.weight", Tensor<float>::from_shape({128, 512}));
  tg::put(ckpt, "lstm.bias", Tensor<double>::from_shape({512}));

  std::string msg = error_of([&] { tg::get<float>(ckpt, "lstm.weight", {128, 256}); });
  CHECK_THAT(msg, Contains("'m.safetensors'") && Contains("'lstm.weight'") &&
                      Contains("shape (128, 512), expected (128, 256)"));
  msg = error_of([&] { tg::get<float>(ckpt, "lstm.bias"); });
  CHECK_THAT(msg, Contains("'lstm.bias'") && Contains("dtype F64, expected F32"));
  msg = error_of([&] { tg::get<double>(ckpt, "lstm.weight", {128, 512}); });
  CHECK_THAT(msg, Contains("dtype F32, expected F64"));
  msg = error_of([&] { tg::get<float>(ckpt, "decoder.weight"); });
  CHECK_THAT(msg, Contains("no tensor named 'decoder.weight'"));
  CHECK(tg::get<float>(ckpt, "lstm.weight", {128, 512}).shape(1) == 512);
}

TEST_CASE("check_names lists the missing and the unexpected names") {
  Checkpoint ckpt;
  tg::put(ckpt, "a", Tensor<float>{1.0f});
  tg::put(ckpt, "b", Tensor<float>{1.0f});
  tg::put(ckpt, "x", Tensor<float>{1.0f});
  tg::check_names(ckpt, {"x", "b", "a"});
  std::string msg = error_of([&] { tg::check_names(ckpt, {"a", "b", "c", "d"}); });
  CHECK_THAT(msg, Contains("missing 'c', 'd'") && Contains("unexpected 'x'"));
  msg = error_of([&] { tg::check_names(ckpt, {"a", "b"}); });
  CHECK_THAT(msg, Contains("unexpected 'x'") && !Contains("missing"));
}

TEST_CASE("load_into checks every target before it modifies any") {
  Checkpoint ckpt;
  tg::put(ckpt, "w", Tensor<float>{{1, 2}, {3, 4}});
  tg::put(ckpt, "b", Tensor<float>{5, 6});
  tg::put(ckpt, "d", Tensor<double>{7});

  Tensor<float> w = tg::zeros<float>(tg::Shape{2, 2});
  Tensor<float> b_wrong = tg::zeros<float>(tg::Shape{3});
  std::string msg = error_of([&] {
    tg::load_into<float>(ckpt, {{"w", &w}, {"b", &b_wrong}}, false);
  });
  CHECK_THAT(msg, Contains("'b'") && Contains("shape (2,), expected (3,)"));
  CHECK(same(w, tg::zeros<float>(tg::Shape{2, 2})));  // untouched although it came first

  Tensor<float> b = tg::zeros<float>(tg::Shape{2});
  msg = error_of([&] { tg::load_into<float>(ckpt, {{"w", &w}, {"b", &b}}); });  // strict: 'd' left
  CHECK_THAT(msg, Contains("unexpected 'd'"));
  CHECK(same(w, tg::zeros<float>(tg::Shape{2, 2})));

  Tensor<float> d = tg::zeros<float>(tg::Shape{1});
  msg = error_of([&] { tg::load_into<float>(ckpt, {{"w", &w}, {"b", &b}, {"d", &d}}); });
  CHECK_THAT(msg, Contains("dtype F64, expected F32"));
  CHECK(same(w, tg::zeros<float>(tg::Shape{2, 2})));
  msg = error_of([&] { tg::load_into<float>(ckpt, {{"w", nullptr}}, false); });
  CHECK_THAT(msg, Contains("'w'") && Contains("null"));

  tg::load_into<float>(ckpt, {{"w", &w}, {"b", &b}}, false);
  CHECK(same(w, Tensor<float>{{1, 2}, {3, 4}}));
  CHECK(same(b, Tensor<float>{5, 6}));
}

TEST_CASE("save refuses inconsistent entries and reserved names, writing nothing") {
  TempDir dir;
  Checkpoint ckpt;
  ckpt.tensors["bad"] = {tg::DType::F32, {3}, std::vector<std::uint8_t>(8)};
  std::string msg = error_of([&] { tg::save_safetensors(dir.file("x"), ckpt); });
  CHECK_THAT(msg, Contains("'bad'") && Contains("holds 8 bytes") && Contains("needs 12"));
  CHECK(std::filesystem::is_empty(dir.path));

  Checkpoint reserved;
  msg = error_of([&] { tg::put(reserved, "__metadata__", Tensor<float>{1.0f}); });
  CHECK_THAT(msg, Contains("invalid tensor name"));
  reserved.tensors["__metadata__"] = {tg::DType::U8, {1}, {0}};
  msg = error_of([&] { tg::save_safetensors(dir.file("x"), reserved); });
  CHECK_THAT(msg, Contains("invalid tensor name '__metadata__'"));
  CHECK(std::filesystem::is_empty(dir.path));
}
