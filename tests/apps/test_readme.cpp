// The README's "A model in a few lines" is a whole program,
// examples/quickstart/main.cpp: its code block must be that file to the
// letter, and the program must build (CMake does) and train to its goal.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <string>

#include "tests/datasets/tmpdir.hpp"  // TmpDir, read_file

namespace {

const std::string kRoot = TAPEGRAD_SOURCE_DIR;

// The README's first ```cpp program block after `heading`.
std::string readme_block(const std::string& heading) {
  const std::string readme = tg::data::test::read_file(kRoot + "/README.md");
  const std::size_t section = readme.find(heading);
  REQUIRE(section != std::string::npos);
  const std::string fence = "```cpp program\n";
  const std::size_t open = readme.find(fence, section);
  REQUIRE(open != std::string::npos);
  const std::size_t close = readme.find("```\n", open + fence.size());
  REQUIRE(close != std::string::npos);
  return readme.substr(open + fence.size(), close - open - fence.size());
}

}  // namespace

TEST_CASE("the README's quick start is examples/quickstart/main.cpp, letter for letter", "[readme]") {
  const std::string file = tg::data::test::read_file(kRoot + "/examples/quickstart/main.cpp");
  REQUIRE(!file.empty());
  CHECK(readme_block("## A model in a few lines") == file);
}

TEST_CASE("the quick start trains to its goal and writes its checkpoint", "[readme]") {
  const tg::data::test::TmpDir dir;  // the program saves into its working folder
  const std::string command = "cd '" + dir.path().string() + "' && '" QUICKSTART_EXE "' 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::string out;
  std::array<char, 4096> chunk{};
  while (std::size_t n = std::fread(chunk.data(), 1, chunk.size(), pipe)) out.append(chunk.data(), n);
  const int status = pclose(pipe);
  INFO(out);
  CHECK(status == 0);  // the program's own verdict: held-out accuracy above 0.9
  CHECK(out.find("rnn.l0.fwd.weight_ih") != std::string::npos);  // the summary
  CHECK(out.find("test_acc") != std::string::npos);              // the Trainer's log
  CHECK(std::filesystem::exists(dir / "quickstart.safetensors"));
}
