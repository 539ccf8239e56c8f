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
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
  struct stat after;
  REQUIRE(::stat(file.c_str(), &after) == 0);
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
