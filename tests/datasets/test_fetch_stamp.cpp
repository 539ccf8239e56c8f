// What the stamp `.sha256-ok` may vouch for: a file changed in place with its
// size and mtime put back must be hashed again, in the cache and in a --data
// folder alike.
#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/fetch.hpp>
#include "fake_package.hpp"
#include "tmpdir.hpp"

using namespace tg::data;
using test::FakeDownload;
using test::fake_package;
using test::kWorldSha;

namespace {

// Changes one byte of `file` in place (its size kept) and puts its mtime
// back: what a stamp of size and mtime alone cannot see.
void change_a_byte_keep_mtime(const fs::path& file) {
  struct stat before;
  REQUIRE(::stat(file.c_str(), &before) == 0);
  std::string bytes = test::read_file(file);
  REQUIRE_FALSE(bytes.empty());
  bytes[0] = char(bytes[0] ^ 0x20);
  {
    std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
  }
  // Each utimensat sets ctime to now; again until the coarse clock has
  // ticked, so that the change is not in the tick the stamp was written.
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  struct stat after;
  do {
    REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
    REQUIRE(::stat(file.c_str(), &after) == 0);
  } while (after.st_ctim.tv_sec == before.st_ctim.tv_sec && after.st_ctim.tv_nsec == before.st_ctim.tv_nsec);
  REQUIRE(after.st_size == before.st_size);
  REQUIRE(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  REQUIRE(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
}

}  // namespace

TEST_CASE("fetch: a --data folder is verified by content, whatever stamp it holds", "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path mine = tmp / "mine";
  FakeDownload dl;
  ensure_files(fake_package(), mine, dl.fn());  // a verified folder and its stamp, as a copy of the cache
  REQUIRE(fs::exists(mine / ".sha256-ok"));
  CHECK(data_files(fake_package(), mine).size() == 2);
  change_a_byte_keep_mtime(mine / "b.bin");
  CHECK_THROWS_WITH(data_files(fake_package(), mine),
                    Catch::Contains("b.bin: sha256") && Catch::Contains("expected " + kWorldSha));
}

TEST_CASE("fetch: the cache's stamp does not vouch for a file changed with its mtime put back", "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path dir = tmp / "fake";
  FakeDownload dl;
  ensure_files(fake_package(), dir, dl.fn());
  REQUIRE(cached_files(fake_package(), dir).has_value());
  change_a_byte_keep_mtime(dir / "b.bin");
  CHECK_FALSE(cached_files(fake_package(), dir).has_value());
  ensure_files(fake_package(), dir, dl.fn());  // fetched again
  CHECK(dl.calls == 2);
  CHECK(test::read_file(dir / "b.bin") == "world\n");
  CHECK(cached_files(fake_package(), dir).has_value());
}

TEST_CASE("fetch: a stamp of the old format (no ctime, no inode) means hashing once more, then the new one",
          "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path dir = tmp / "fake";
  FakeDownload dl;
  ensure_files(fake_package(), dir, dl.fn());
  struct stat st;
  REQUIRE(::stat((dir / "a.bin").c_str(), &st) == 0);
  const long long mtime = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  test::write_file(dir / ".sha256-ok", test::kHelloSha + " 6 " + std::to_string(mtime) + " a.bin\n");
  REQUIRE(cached_files(fake_package(), dir).has_value());  // hashed, found right, stamp rewritten
  const std::string stamp = test::read_file(dir / ".sha256-ok");
  CHECK(stamp.find(" a.bin\n") != std::string::npos);
  CHECK(stamp.find(" b.bin\n") != std::string::npos);
  CHECK(stamp.find(test::kHelloSha + " 6 " + std::to_string(mtime) + " a.bin") == std::string::npos);
  CHECK(dl.calls == 1);
}
