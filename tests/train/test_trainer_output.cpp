// What the Trainer prints: the evaluation line (default and log_line), the
// progress_every lines; the evaluation under no_grad; train::for_chunks.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

#include "problem.hpp"

using namespace tg;
using namespace tg::test;

namespace {

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text += char(c);
  return text;
}

// What the process writes to stderr (fd 2) while it lives: a file, so not
// a terminal.
class CapturedStderr {
 public:
  CapturedStderr() : file_(std::tmpfile()), saved_(::dup(2)) {
    std::fflush(stderr);
    ::dup2(::fileno(file_), 2);
  }
  ~CapturedStderr() {
    restore();
    std::fclose(file_);
  }
  std::string text() {
    restore();
    return contents(file_);
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  std::FILE* file_;
  int saved_;
};

}  // namespace

TEST_CASE("trainer output: the default line", "[train][log]") {
  const train::Row row{300, 2, 0.4312, {{"test_acc", 0.88}, {"test_loss", 0.35}}, 12.34, 1.5};
  CHECK(train::default_line(row) == "step   300  epoch  2  loss 0.4312  test_acc 0.8800  test_loss 0.3500  [train 12.3 s]");
  Problem p;
  train::Options o = p.options(9, "", "");
  o.log = std::tmpfile();
  train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, o, 1);
  std::string expected;
  for (const train::Row& r : p.fit(t)) expected += train::default_line(r) + "\n";
  CHECK(contents(o.log) == expected);
  std::fclose(o.log);
}

TEST_CASE("trainer output: log_line replaces the line, given the row before", "[train][log]") {
  const fs::path ck = temp_dir() / "log_line.st";
  Problem p;
  // What a run to `steps` prints with `line` (resumed from ck when `resume`).
  auto printed = [&](std::size_t steps, bool resume, const train::LineFn& line) {
    train::Options o = p.options(steps, resume ? "" : ck.string(), "");
    o.log = std::tmpfile();
    o.log_line = line;
    train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, o, 1);
    if (resume) t.resume(ck.string());
    p.fit(t);
    const std::string text = contents(o.log);
    std::fclose(o.log);
    return text;
  };
  auto line = [](const train::Row& row, const train::Row& previous) {
    return fmt::format("step {} after {} (epoch {}), {} values", row.step, previous.step, previous.epoch,
                       row.values.size());
  };
  CHECK(printed(9, false, line) == "step 3 after 0 (epoch 0), 1 values\nstep 6 after 3 (epoch 1), 1 values\n"
                                   "step 9 after 6 (epoch 1), 1 values\n");
  // A resumed process's first row follows a row at the step it resumed from.
  CHECK(printed(17, true, line) == "step 12 after 9 (epoch 1), 1 values\nstep 15 after 12 (epoch 2), 1 values\n"
                                   "step 17 after 15 (epoch 2), 1 values\n");
  // An empty line prints nothing.
  CHECK(printed(20, true, [](const train::Row&, const train::Row&) { return std::string(); }).empty());
}

TEST_CASE("trainer output: progress_every lines carry the epoch's mean loss so far", "[train][log]") {
  for (const std::size_t every : {0, 3}) {
    for (const bool progress : {true, false}) {
      INFO("progress_every " << every << ", progress " << progress);
      Problem p;
      train::Options o = p.options(12, "", "");
      o.progress = progress;
      o.progress_every = every;
      train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, o, 1);
      std::vector<double> losses;
      t.on_step = [&](const train::Batch&, double loss) { losses.push_back(loss); };
      CapturedStderr err;
      p.fit(t);
      const std::string text = err.text();
      std::string expected;
      double sum = 0;
      for (std::size_t s = 1; s <= 12 && every && progress; ++s) {
        const std::size_t index = (s - 1) % 8;
        sum = (index == 0 ? 0 : sum) + losses[s - 1];
        if ((index + 1) % every == 0 || index + 1 == 8)
          expected += fmt::format("  epoch {} batch {}/8  loss {:.4f}\n", (s - 1) / 8 + 1, index + 1,
                                  sum / double(index + 1));
      }
      CHECK(text == expected);
      if (every && progress) CHECK(std::count(text.begin(), text.end(), '\n') == 4);  // batches 3, 6, 8; 3
    }
  }
}

TEST_CASE("trainer: the evaluation runs under no_grad", "[train]") {
  Problem p;
  train::Trainer<double> t(p.tape, p.model.named_parameters(), p.adam, p.options(6, "", ""), 1);
  std::vector<bool> recording;
  t.fit([&](const train::Batch& b) { return p.loss(b, t.rng()); },
        [&] {
          recording.push_back(p.tape.recording());
          return train::Metrics{};
        });
  CHECK(recording == std::vector<bool>{false, false});
  CHECK(p.tape.recording());
}

TEST_CASE("for_chunks: every item once, a chunk at a time, under no_grad, the tape cleared", "[train]") {
  Problem p;
  std::vector<std::pair<std::size_t, std::size_t>> chunks;
  Var<double> recorded = p.model(p.tape.constant(p.x));  // on the tape before
  REQUIRE(p.tape.size() > 0);
  std::vector<std::size_t> sizes;
  train::for_chunks(p.tape, 10, 4, [&](std::size_t begin, std::size_t count) {
    CHECK_FALSE(p.tape.recording());
    sizes.push_back(p.tape.size());
    chunks.emplace_back(begin, count);
  });
  CHECK(chunks == std::vector<std::pair<std::size_t, std::size_t>>{{0, 4}, {4, 4}, {8, 2}});
  CHECK(sizes[1] == 0);  // cleared after the first chunk
  CHECK(p.tape.size() == 0);
  CHECK(p.tape.recording());
  train::for_chunks(p.tape, 0, 4, [&](std::size_t, std::size_t) { FAIL("no items, no call"); });
  CHECK_THROWS_WITH(train::for_chunks(p.tape, 3, 0, [](std::size_t, std::size_t) {}), Catch::Contains("chunk size is 0"));
}
