// IDX reading and MNIST batching on small files written here.
#include <set>

#include <catch2/catch.hpp>

#include <tapegrad/datasets/idx.hpp>
#include <tapegrad/datasets/mnist.hpp>
#include "tmpdir.hpp"

using namespace tg::data;
namespace fs = std::filesystem;

namespace {

// Image i has pixel (0,0) = i, so a batch reveals which images it holds;
// the rest is a pattern that differs per row and column.
std::vector<std::uint8_t> pixels(std::size_t n) {
  std::vector<std::uint8_t> p(n * 784);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t r = 0; r < 28; ++r)
      for (std::size_t c = 0; c < 28; ++c)
        p[i * 784 + r * 28 + c] = std::uint8_t(r == 0 && c == 0 ? i : (i * 7 + r * 3 + c * 11) % 256);
  return p;
}

std::vector<std::uint8_t> digits(std::size_t n) {
  std::vector<std::uint8_t> l(n);
  for (std::size_t i = 0; i < n; ++i) l[i] = std::uint8_t((i * 3) % 10);
  return l;
}

void write_split(const test::TmpDir& tmp, const std::string& prefix, std::size_t n) {
  write_idx(tmp / (prefix + "-images-idx3-ubyte"), {n, 28, 28}, pixels(n));
  write_idx(tmp / (prefix + "-labels-idx1-ubyte"), {n}, digits(n));
}

// Which images a batch holds, in batch order (pixel (0,0) of each).
std::vector<std::size_t> ids_of(const MnistBatch& b) {
  std::vector<std::size_t> out;
  for (std::size_t j = 0; j < b.x.shape()[1]; ++j) out.push_back(std::size_t(b.x(0, j, 0) * 255.0f + 0.5f));
  return out;
}

}  // namespace

TEST_CASE("mnist: IDX files round-trip", "[datasets][mnist]") {
  test::TmpDir tmp;
  write_split(tmp, "train", 12);
  write_split(tmp, "t10k", 5);
  Mnist m = load_mnist(tmp.path());
  CHECK(m.train.size() == 12);
  CHECK(m.test.size() == 5);
  CHECK(m.train.pixels == pixels(12));
  CHECK(m.train.labels == digits(12));
  CHECK(m.test.labels == digits(5));
}

TEST_CASE("mnist: broken files give errors naming the file", "[datasets][mnist]") {
  test::TmpDir tmp;
  const auto img = tmp / "img", lab = tmp / "lab";
  write_idx(lab, {4}, digits(4));

  SECTION("wrong magic") {  // a label file where images are expected
    write_idx(img, {4}, digits(4));
    CHECK_THROWS_WITH(load_mnist_split(img, lab), Catch::Contains(img.string() + ": byte 0: IDX magic 0x00000801, expected 0x00000803"));
  }
  SECTION("truncated") {
    write_idx(img, {4, 28, 28}, pixels(4));
    fs::resize_file(img, 16 + 4 * 784 - 5);
    CHECK_THROWS_WITH(load_mnist_split(img, lab),
                      Catch::Contains(img.string() + ": file has 3147 bytes, header promises 16+3136") &&
                          Catch::Contains("truncated"));
  }
  SECTION("shorter than the header") {
    test::write_file(img, std::string("\0\0\x08", 3));
    CHECK_THROWS_WITH(load_mnist_split(img, lab), Catch::Contains(img.string() + ": file has 3 bytes") &&
                                                      Catch::Contains("truncated"));
    test::write_file(img, std::string("\0\0\x08\x03\0\0\0\x04", 8));
    CHECK_THROWS_WITH(load_mnist_split(img, lab), Catch::Contains(img.string() + ": file has 8 bytes, less than the 16-byte IDX header"));
  }
  SECTION("trailing bytes") {
    write_idx(img, {4, 28, 28}, pixels(4));
    std::ofstream(img, std::ios::app | std::ios::binary) << "xx";
    CHECK_THROWS_WITH(load_mnist_split(img, lab), Catch::Contains(img.string()) && Catch::Contains("trailing"));
  }
  SECTION("image and label counts differ") {
    write_idx(img, {5, 28, 28}, pixels(5));
    CHECK_THROWS_WITH(load_mnist_split(img, lab),
                      Catch::Contains(img.string() + " holds 5 images but " + lab.string() + " holds 4 labels"));
  }
  SECTION("label 10") {
    write_idx(img, {4, 28, 28}, pixels(4));
    write_idx(lab, {4}, {1, 2, 3, 10});
    CHECK_THROWS_WITH(load_mnist_split(img, lab),
                      Catch::Contains(lab.string() + ": record 3 (byte offset 11): label 10"));
  }
  SECTION("dimensions whose product overflows 64 bits") {
    test::write_file(img, std::string("\0\0\x08\x03", 4) + std::string(12, '\xff'));
    CHECK_THROWS_WITH(load_mnist_split(img, lab), Catch::Contains(img.string() + ": file has 16 bytes") &&
                                                      Catch::Contains("truncated"));
  }
  SECTION("not 28x28") {
    write_idx(img, {4, 28, 27}, std::vector<std::uint8_t>(4 * 28 * 27));
    CHECK_THROWS_WITH(load_mnist_split(img, lab), Catch::Contains(img.string() + ": images are 28x27"));
  }
  SECTION("missing file") {
    CHECK_THROWS_WITH(load_mnist_split(tmp / "nope", lab), Catch::Contains((tmp / "nope").string()));
  }
}

TEST_CASE("mnist: batches are time-major (28, N, 28), value/255", "[datasets][mnist]") {
  MnistSplit s{pixels(6), digits(6)};
  MnistBatch b = mnist_batch(s, {4, 1, 5});
  REQUIRE(b.x.shape() == std::vector<std::size_t>{28, 3, 28});
  CHECK(b.labels == std::vector<int>{2, 3, 5});
  for (std::size_t t = 0; t < 28; ++t)
    for (std::size_t c = 0; c < 28; ++c)
      CHECK(b.x(t, 2, c) == float(s.pixels[5 * 784 + t * 28 + c]) / 255.0f);  // row t = step t
  CHECK_THROWS_AS(mnist_batch(s, {6}), tg::Error);

  // Evaluation chunks in file order, the last one clipped.
  MnistBatch last = mnist_range(s, 4, 1000);
  CHECK(last.x.shape() == std::vector<std::size_t>{28, 2, 28});
  CHECK(ids_of(last) == std::vector<std::size_t>{4, 5});
}

TEST_CASE("mnist: each epoch shows every image once, reshuffled, reproducibly", "[datasets][mnist]") {
  MnistSplit s{pixels(10), digits(10)};
  LoaderOptions o;
  o.batch = 3;
  o.seed = 42;
  MnistLoader a(s, o, mnist_batch), b(s, o, mnist_batch);
  o.seed = 7;
  MnistLoader c(s, o, mnist_batch);
  REQUIRE(a.batches_per_epoch() == 4);  // 3 + 3 + 3 + 1
  std::vector<std::vector<std::size_t>> epochs(3);
  bool differs_from_other_seed = false;
  for (std::size_t e = 0; e < 3; ++e) {
    for (std::size_t k = 0; k < 4; ++k) {
      MnistBatch x = a.at(e, k), y = b.at(e, k), z = c.at(e, k);
      CHECK(x.x.shape()[1] == (k < 3 ? 3u : 1u));
      CHECK(ids_of(x) == ids_of(y));  // same seed, same stream
      CHECK(x.labels == y.labels);
      differs_from_other_seed |= ids_of(x) != ids_of(z);
      for (auto i : ids_of(x)) epochs[e].push_back(i);
    }
    std::set<std::size_t> seen(epochs[e].begin(), epochs[e].end());
    CHECK(epochs[e].size() == 10);
    CHECK(seen.size() == 10);  // each image exactly once
  }
  CHECK(differs_from_other_seed);
  CHECK((epochs[0] != epochs[1] || epochs[1] != epochs[2]));  // reshuffled, not repeated
}
