// The float product's backend chosen by measurement (backend/gemm_choice.hpp):
// TAPEGRAD_GEMM values, the cache file's round trip, a corrupt file, a choice
// made by another process winning, forced modes, one answer across threads.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <tapegrad/backend/blas.hpp>
#include <tapegrad/backend/gemm_cache.hpp>
#include <tapegrad/backend/gemm_choice.hpp>
#include <tapegrad/backend/sgemm_avx512.hpp>
#include <tapegrad/backend/tensor.hpp>

#include "tests/backend/capture_cerr.hpp"
#include "tests/datasets/tmpdir.hpp"  // TmpDir, write_file, read_file

namespace {

using namespace tg::blas;
using Catch::Matchers::Contains;
using tg::blas::test::CaptureCerr;
using tg::data::test::TmpDir;

struct Shape {
  bool ta, tb;
  int m, n, k;
};
// An MNIST step, its dh, its dW: three classes.
const Shape kShapes[] = {{false, false, 50, 128, 128}, {false, true, 50, 128, 128}, {true, false, 128, 128, 50}};

}  // namespace

TEST_CASE("TAPEGRAD_GEMM: auto, own, openblas, any other value is an error naming it", "[blas]") {
  CHECK(parse_gemm_mode(nullptr) == GemmMode::automatic);
  CHECK(parse_gemm_mode("") == GemmMode::automatic);
  CHECK(parse_gemm_mode("auto") == GemmMode::automatic);
  CHECK(parse_gemm_mode("own") == GemmMode::own);
  CHECK(parse_gemm_mode("openblas") == GemmMode::openblas);
  for (const char* bad : {"OpenBLAS", "fast", "own "})
    CHECK_THROWS_WITH(parse_gemm_mode(bad), Contains("TAPEGRAD_GEMM") && Contains(std::string("'") + bad + "'"));
}

TEST_CASE("gemm cache: class keys name every table index and come back", "[blas]") {
  for (int i = 0; i < 4 * GemmChooser::kBuckets * GemmChooser::kBuckets * GemmChooser::kBuckets; ++i)
    if (gemm_cache::class_index(gemm_cache::class_key(i)) != i) FAIL("index " << i << " key " << gemm_cache::class_key(i));
  CHECK(gemm_cache::class_key(GemmChooser::index(false, true, 50, 128, 129)) == "NT m64 n128 k256");
  for (const char* bad : {"NT m64 n128", "NT m63 n128 k256", "XX m64 n128 k256", "NT m64 n128 k256 ", "NT m0 n1 k1"})
    CHECK(gemm_cache::class_index(bad) == -1);
}

TEST_CASE("gemm cache: choices measured once, written, read back by the next process", "[blas]") {
  if (!avx512::supported()) return;  // OpenBLAS always: nothing is measured
  TmpDir dir;
  const std::string file = (dir / "gemm.json").string();
  std::vector<Backend> first;
  {
    GemmChooser chooser(GemmMode::automatic, file);
    for (const Shape& s : kShapes) first.push_back(chooser.backend_for(s.ta, s.tb, s.m, s.n, s.k));
    CHECK(chooser.measured() == 3);
    // The same class again, and another shape of it: no new timing, same answer.
    CHECK(chooser.backend_for(false, false, 50, 128, 128) == first[0]);
    CHECK(chooser.backend_for(false, false, 33, 100, 65) == first[0]);
    CHECK(chooser.measured() == 3);
  }
  const gemm_cache::Loaded loaded = gemm_cache::load(file);
  REQUIRE(loaded.problem.empty());
  REQUIRE(loaded.entries.size() == 3);
  const gemm_cache::Entry& e = loaded.entries.at("NN m64 n128 k128");
  CHECK(e.m == 50);
  CHECK(e.own_us > 0);
  CHECK(e.openblas_us > 0);
  CHECK(e.own == (first[0] == Backend::own));

  GemmChooser again(GemmMode::automatic, file);
  for (int i = 0; i < 3; ++i) CHECK(again.backend_for(kShapes[i].ta, kShapes[i].tb, kShapes[i].m, kShapes[i].n, kShapes[i].k) == first[i]);
  CHECK(again.measured() == 0);
  CHECK_THAT(again.describe(), Contains("TAPEGRAD_GEMM=auto") && Contains(file));
}

TEST_CASE("gemm cache: another process's choice wins over a new measurement", "[blas]") {
  if (!avx512::supported()) return;
  TmpDir dir;
  const std::string file = (dir / "gemm.json").string();
  GemmChooser chooser(GemmMode::automatic, file);  // reads the file before the other writes
  gemm_cache::Entries other;
  other["NN m64 n128 k128"] = gemm_cache::Entry{false, 50, 128, 128, 1, 2};
  other["NT m64 n128 k128"] = gemm_cache::Entry{true, 50, 128, 128, 2, 1};
  gemm_cache::store(file, other);
  CHECK(chooser.backend_for(false, false, 50, 128, 128) == Backend::openblas);
  CHECK(chooser.backend_for(false, true, 50, 128, 128) == Backend::own);
  CHECK(chooser.measured() == 0);
}

TEST_CASE("gemm cache: a corrupt file is reported, measured again and rewritten", "[blas]") {
  if (!avx512::supported()) return;
  const std::string wrong_machine = R"({"machine": "elsewhere", "classes": {}})";
  const std::string bad_key = R"({"machine": ")" + gemm_cache::machine() + R"(", "classes": {"NN m3": {}}})";
  for (const std::string& content : {std::string("{\"machine\": \"x\", \"clas"), std::string("[1, 2]"),
                                     std::string("\x01\xff garbage"), wrong_machine, bad_key}) {
    INFO(content);
    TmpDir dir;
    const std::string file = (dir / "gemm.json").string();
    tg::data::test::write_file(file, content);
    CaptureCerr err;
    GemmChooser chooser(GemmMode::automatic, file);
    CHECK_FALSE(chooser.cache_problem().empty());
    CHECK_THAT(err.text(), Contains("ignoring the gemm cache") && Contains(file));
    chooser.backend_for(false, false, 50, 128, 128);
    CHECK(chooser.measured() == 1);
    const gemm_cache::Loaded loaded = gemm_cache::load(file);
    CHECK(loaded.problem.empty());
    CHECK(loaded.entries.size() == 1);
  }
}

TEST_CASE("TAPEGRAD_GEMM=own and =openblas are honoured: the bits of that backend, nothing measured", "[blas]") {
  const int m = 50, n = 70, k = 300;
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(m * k), b(k * n);
  for (float& x : a) x = u(gen);
  for (float& x : b) x = u(gen);
  auto product = [&](auto&& gemm) {
    std::vector<float> c(m * n, 0.0f);
    gemm(false, false, m, n, k, 1.0f, a.data(), b.data(), 0.0f, c.data());
    return c;
  };
  TmpDir dir;
  const std::string file = (dir / "gemm.json").string();
  GemmChooser forced_blas(GemmMode::openblas, file);
  CHECK(forced_blas.backend_for(false, false, m, n, k) == Backend::openblas);
  CHECK(product([&](auto... x) { forced_blas.gemm(x...); }) == product(openblas_sgemm));
  CHECK_THAT(forced_blas.describe(), Contains("OpenBLAS"));
  if (avx512::supported()) {
    GemmChooser forced_own(GemmMode::own, file);
    for (const Shape& s : kShapes) CHECK(forced_own.backend_for(s.ta, s.tb, s.m, s.n, s.k) == Backend::own);
    const std::vector<float> own = product([&](auto... x) { forced_own.gemm(x...); });
    CHECK(own == product(avx512::sgemm));
    CHECK(own != product(openblas_sgemm));  // else this test could not tell them apart
    CHECK_THAT(forced_own.describe(), Contains("TAPEGRAD_GEMM=own"));
    CHECK(forced_own.measured() == 0);
  } else {
    CHECK_THROWS_WITH(GemmChooser(GemmMode::own, file), Contains("TAPEGRAD_GEMM=own") && Contains("AVX-512"));
  }
  CHECK(forced_blas.measured() == 0);
  CHECK_FALSE(tg::data::test::fs::exists(file));
}

TEST_CASE("gemm choice: threads asking at once get one answer from one measurement", "[blas]") {
  if (!avx512::supported()) return;
  GemmChooser chooser(GemmMode::automatic, "");
  std::vector<Backend> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] { seen[t] = chooser.backend_for(false, false, 64, 512, 128); });
  for (auto& th : threads) th.join();
  for (Backend b : seen) CHECK(b == seen[0]);
  CHECK(seen[0] != Backend::unknown);
  CHECK(chooser.measured() == 1);
}
