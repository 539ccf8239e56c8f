// The lecture's worked examples must give the slides' numbers; the
// executable prints them and has the apps' command line (--help, exit 2 with
// "lecture_examples: error:" for anything else).
#include <catch2/catch.hpp>

#include <string>

#include "apps/common/frame.hpp"
#include "apps/lecture_examples/lecture.hpp"
#include "tests/apps/app_exe.hpp"  // run_exe, longest_line

using namespace tg::lecture;

TEST_CASE("simple RNN: outputs depend on the order of the inputs", "[lecture]") {
  const std::vector<std::vector<double>> expected = {{4, 4}, {12, 12}, {32, 32}};
  const std::vector<std::vector<double>> changed = {{8, 8}, {20, 20}, {44, 44}};
  auto a = rnn_example(rnn_inputs(false));
  auto b = rnn_example(rnn_inputs(true));
  REQUIRE(a.size() == 3);
  for (std::size_t t = 0; t < 3; ++t) {
    REQUIRE(a[t].output == expected[t]);
    REQUIRE(b[t].output == changed[t]);
  }
  REQUIRE(a[1].memory == std::vector<double>{6, 6});  // 1 + 1 + 2 + 2
}

TEST_CASE("LSTM memory cell: add, reset and output as on the slide", "[lecture]") {
  const double memory[] = {0, 3, 3, 7, 7, 7, 0, 6, 6};
  const double y[] = {0, 0, 0, 0, 0, 7, 0, 0, 6};
  auto steps = lstm_example(lstm_inputs());
  REQUIRE(steps.size() == 9);
  for (std::size_t t = 0; t < 9; ++t) {
    INFO("t = " << t + 1);
    REQUIRE(steps[t].memory[0] == Approx(memory[t]).margin(1e-2));
    REQUIRE(steps[t].output[0] == Approx(y[t]).margin(1e-2));
  }
}

// The command line: the apps' frame without the training flags.
TEST_CASE("lecture_examples: the frame parses without the training flags", "[lecture][cli]") {
  auto parse = [](std::vector<std::string> args) {
    tg::app::Frame frame("lecture_examples", "test");
    args.insert(args.begin(), "lecture_examples");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    frame.parse(int(argv.size()), argv.data());
    return frame.flags().steps;
  };
  CHECK(parse({}) == 0);  // no "give --steps or --epochs": parse returns before the training checks
  CHECK_THROWS_AS(parse({"--steps", "3"}), tg::app::UsageError);
  CHECK_THROWS_AS(parse({"--eval-only"}), tg::app::UsageError);
  CHECK_THROWS_AS(parse({"extra"}), tg::app::UsageError);
}

namespace {

tg::test::Exe run_exe(const std::string& args) { return tg::test::run_exe(LECTURE_EXAMPLES_EXE, args); }

}  // namespace

TEST_CASE("lecture_examples: the executable's output and exit codes", "[lecture][cli]") {
  const tg::test::Exe run = run_exe("");
  CHECK(run.code == 0);
  CHECK(run.err.empty());
  CHECK_THAT(run.out, Catch::Contains("     3       2 2       16 16       32 32"));
  CHECK_THAT(run.out, Catch::Contains("     3       1 1       22 22       44 44"));
  CHECK_THAT(run.out, Catch::Contains("     9       1 0 1     6.000     6.000"));

  const tg::test::Exe help = run_exe("--help");
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Catch::Contains("exit codes: 0 success, 1 the report cannot be written, 2 usage"));
  CHECK(tg::test::longest_line(help.out) <= 80);
  for (const char* bad : {"--steps 3", "--no-such-flag", "extra"}) {
    INFO(bad);
    const tg::test::Exe r = run_exe(bad);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::StartsWith("lecture_examples: error:"));
    CHECK(r.out.empty());
  }
}
