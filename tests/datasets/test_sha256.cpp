#include <catch2/catch.hpp>

#include <tapegrad/datasets/sha256.hpp>
#include "tmpdir.hpp"

using namespace tg::data;

TEST_CASE("sha256 matches the FIPS 180-4 test vectors", "[datasets][sha256]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the length no longer fits the first block, padding spills over.
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256 gives the same digest however the input is split", "[datasets][sha256]") {
  const std::string million(1000000, 'a');
  const std::string want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  CHECK(sha256_hex(million) == want);
  Sha256 h;  // odd chunk sizes exercise the partial-block buffer
  for (std::size_t pos = 0, step = 1; pos < million.size(); pos += step, step = step % 97 + 13)
    h.update(million.data() + pos, std::min(step, million.size() - pos));
  CHECK(h.hex() == want);
}

TEST_CASE("sha256_file hashes a file and names a missing one", "[datasets][sha256]") {
  test::TmpDir tmp;
  test::write_file(tmp / "hello.txt", "hello\n");
  CHECK(sha256_file(tmp / "hello.txt") == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  CHECK_THROWS_WITH(sha256_file(tmp / "nope.bin"), Catch::Contains("nope.bin"));
}
