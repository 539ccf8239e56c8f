// The adding-problem app (apps/adding_problem), the example of
// docs/writing_a_model.md: the generator, the model's gradients in double,
// masks, the model trained through train::Trainer, short runs of the app that
// only a learning model passes, checkpoints (evaluate, bit-identical resume,
// settings from the file, a non-finite stop), the command line, and the
// tutorial's quotes of the code.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include <xtensor/xview.hpp>

#include "apps/adding_problem/adding_app.hpp"
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/optim/adam.hpp>
#include "tests/apps/app_exe.hpp"  // run_exe, longest_line, write_poisoned_copy
#include "tests/apps/torch_export.hpp"
#include "tests/autograd/check.hpp"
#include "tests/datasets/tmpdir.hpp"  // TmpDir, read_file

using namespace tg;
using namespace tg::adding;
using tg::data::test::read_file;
using tg::test::Exe;
namespace fs = std::filesystem;

namespace {

Exe run_exe(const std::string& args) { return test::run_exe(ADDING_PROBLEM_EXE, args); }

// A frame parsed from flags, as the executable builds it; the settings it
// fills live beside it.
struct App {
  app::Frame frame{"adding_problem", "test"};
  Settings settings;
  // `small`: the short run (T = 10, a small LSTM, 600 steps, evaluation at
  // the end) before `args`.
  explicit App(std::vector<std::string> args, bool small = true) {
    add_flags(frame, settings);
    if (small)
      args.insert(args.begin(), {"--length", "10", "--hidden", "16", "--batch", "32", "--lr", "1e-2",
                                 "--eval-size", "500", "--steps", "600", "--eval-every", "0"});
    args.insert(args.begin(), {"adding_problem", "--quiet"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    frame.parse(int(argv.size()), argv.data());
  }
  RunResult run() { return adding::run(settings, frame, nullptr); }
};

// The CSV without its last column (train_seconds: wall time).
std::string without_times(const std::string& csv) {
  std::istringstream in(csv);
  std::string out;
  for (std::string line; std::getline(in, line);) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

}  // namespace

TEST_CASE("adding problem: the generator: two markers, one per half, and their sum",
          "[apps][adding]") {
  const std::size_t length = GENERATE(2, 3, 10, 51);
  Rng rng(5);
  const Batch<float> b = make_batch<float>(length, 200, rng);
  REQUIRE(b.x.shape() == Shape{length, 200, 2});
  REQUIRE(b.target.shape() == Shape{200, 1});
  REQUIRE(b.first.size() == 200);
  REQUIRE(b.second.size() == 200);
  for (std::size_t i = 0; i < 200; ++i) {
    std::vector<std::size_t> marked;
    for (std::size_t t = 0; t < length; ++t) {
      const float v = b.x(t, i, 0), m = b.x(t, i, 1);
      REQUIRE((v >= 0.0f && v < 1.0f));
      REQUIRE((m == 0.0f || m == 1.0f));
      if (m == 1.0f) marked.push_back(t);
    }
    REQUIRE(marked.size() == 2);
    CHECK(marked[0] == b.first[i]);
    CHECK(marked[1] == b.second[i]);
    CHECK(marked[0] < length / 2);
    CHECK(marked[1] >= length / 2);
    CHECK(b.target(i, 0) == b.x(marked[0], i, 0) + b.x(marked[1], i, 0));
  }
  // Over 200 sequences the markers do not all sit at one place.
  if (length >= 10) CHECK(std::set<std::size_t>(b.first.begin(), b.first.end()).size() > 1);
}

TEST_CASE("adding problem: the generator: the same seed gives the same data", "[apps][adding]") {
  Rng a(7), b(7), c(8), d(7);
  const Batch<float> x = make_batch<float>(12, 20, a), y = make_batch<float>(12, 20, b);
  const Batch<float> z = make_batch<float>(12, 20, c);
  const Batch<double> w = make_batch<double>(12, 20, d);
  CHECK((x.x == y.x));
  CHECK((x.target == y.target));
  CHECK(x.first == y.first);
  CHECK(x.second == y.second);
  CHECK((x.x != z.x));
  // float and double: the same draws, rounded.
  CHECK(xt::allclose(xt::cast<double>(x.x), w.x, 1e-6, 0.0));
  CHECK(x.first == w.first);
  // The held-out set is fixed, and not a batch of the training stream.
  CHECK((held_out_set(12, 20).x == held_out_set(12, 20).x));
  CHECK((held_out_set(12, 20).x != batch_at<float>(12, 20, 1, 1).x));
  CHECK_THROWS_AS(make_batch<float>(1, 4, a), Error);
}

TEST_CASE("adding problem: training batches are made from (seed, step) alone", "[apps][adding]") {
  const Batch<float> a = batch_at<float>(12, 20, 1, 7), again = batch_at<float>(12, 20, 1, 7);
  CHECK((a.x == again.x));
  CHECK((a.target == again.target));
  CHECK((a.x != batch_at<float>(12, 20, 1, 8).x));  // another step
  CHECK((a.x != batch_at<float>(12, 20, 2, 7).x));  // another seed
  // 64-bit seeds and steps count whole: these differ only above bit 31.
  CHECK((a.x != batch_at<float>(12, 20, 1 + (std::uint64_t(1) << 32), 7).x));
  CHECK((a.x != batch_at<float>(12, 20, 1, 7 + (std::size_t(1) << 32)).x));
  // Not the stream of the weights, Rng(seed).
  Rng weights(1);
  CHECK((a.x != make_batch<float>(12, 20, weights).x));
  // float and double: the same draws, rounded.
  CHECK(xt::allclose(xt::cast<double>(a.x), batch_at<double>(12, 20, 1, 7).x, 1e-6, 0.0));
}

TEST_CASE("adding problem: the model's gradients check in double, for every cell",
          "[apps][adding][gradcheck]") {
  const std::string cell = GENERATE("rnn", "lstm", "gru");
  const bool masked = GENERATE(false, true);
  INFO(cell << (masked ? ", variable lengths" : ""));
  Tape<double> tape;
  Rng rng(3);
  AddingModel<double> model(tape, parse_cell_type(cell), 3, rng);
  Rng data_rng(4);
  Batch<double> b = make_batch<double>(5, 3, data_rng);
  Var<double> x = tape.constant(b.x), target = tape.constant(b.target);
  // Lengths 5, 3, 4: the first markers of the shorter ones are in steps 0-1.
  const Tensor<double> mask = sequence_mask<double>(std::vector<std::size_t>{5, 3, 4}, 5);
  test::require_gradcheck(tape, model.parameters(),
                          [&] { return mse(model.forward(x, masked ? &mask : nullptr), target); });
  // The prediction too (three outputs, each checked), not only the loss.
  test::require_gradcheck(tape, model.parameters(),
                          [&] { return model.forward(x, masked ? &mask : nullptr); });
}

TEST_CASE("adding problem: padding under a mask leaves each prediction as it was",
          "[apps][adding]") {
  Tape<float> tape;
  Rng rng(2);
  AddingModel<float> model(tape, CellType::LSTM, 8, rng);
  auto no_grad = tape.no_grad();
  Rng data_rng(9);
  const Batch<float> shorter = make_batch<float>(6, 1, data_rng);
  const Batch<float> longer = make_batch<float>(9, 1, data_rng);
  // One batch of 9 steps: the 6-step sequence, then 3 steps of padding
  // (filled with ones, which must not leak in), beside the 9-step one.
  Tensor<float> x = zeros<float>(Shape{9, 2, 2});
  x.fill(1.0f);
  xt::view(x, xt::range(0, 6), 0, xt::all()) = xt::view(shorter.x, xt::all(), 0, xt::all());
  xt::view(x, xt::all(), 1, xt::all()) = xt::view(longer.x, xt::all(), 0, xt::all());
  const Tensor<float> mask = sequence_mask<float>(std::vector<std::size_t>{6, 9}, 9);

  const float both_0 = model.forward(tape.constant(x), &mask).value()(0, 0);
  const float both_1 = model.forward(tape.constant(x), &mask).value()(1, 0);
  const float unmasked_0 = model.forward(tape.constant(x)).value()(0, 0);
  CHECK(both_0 == Approx(model.forward(tape.constant(shorter.x)).item()).epsilon(1e-5));
  CHECK(both_1 == Approx(model.forward(tape.constant(longer.x)).item()).epsilon(1e-5));
  CHECK(std::abs(unmasked_0 - both_0) > 1e-4);  // without the mask the padding is read
}

// The tutorial's section 4: a model of your own trains through the Trainer
// in a few lines, without the app's command line.
TEST_CASE("adding problem: the model trains through train::Trainer, far below the baseline",
          "[apps][adding][train]") {
  Tape<float> tape;
  Rng rng(1);
  AddingModel<float> model(tape, CellType::LSTM, 16, rng);
  Adam<float> adam(model.parameters(), 1e-2f);
  const Batch<float> held_out = held_out_set(10, 500);

  train::Options options;
  options.batches_per_epoch = 1000;  // fresh sequences at every step: an epoch is a unit
  options.steps = 600;
  options.eval_every = 200;
  options.clip = 1.0;
  options.log = nullptr;  // default: a line per evaluation on stdout
  train::Trainer<float> trainer(tape, model.named_parameters(), adam, options);
  trainer.fit(
      [&](const train::Batch& at) {  // the loss of training step at.step
        Batch<float> b = batch_at<float>(10, 32, 1, at.step);
        return mse(model.forward(tape.constant(b.x)), tape.constant(b.target));
      },
      [&] { return train::Metrics{{"eval_mse", evaluate(model, tape, held_out).mse}}; });

  REQUIRE(trainer.history().size() == 3);
  const train::Row& last = trainer.history().back();
  CHECK(last.step == 600);
  CHECK(last.values.at(0).first == "eval_mse");
  INFO("eval MSE " << last.values.at(0).second);
  CHECK(last.values.at(0).second < 0.01);
  CHECK(trainer.history().front().loss > 10 * last.loss);
}

TEST_CASE("adding problem: a short LSTM run of the app learns it, far below the baseline",
          "[apps][adding][train]") {
  const RunResult r = App({}).run();
  CHECK(r.first_step == 0);
  CHECK(r.last_step == 600);
  REQUIRE(r.rows.size() == 1);  // --eval-every 0: at the epoch ends (1000 steps) and the end
  CHECK(r.rows.back().step == 600);
  CHECK(r.train_seconds > 0);
  INFO("eval MSE " << r.final.mse << ", baseline " << r.final.baseline);
  CHECK(r.final.baseline == Approx(1.0 / 6).margin(0.02));
  CHECK(r.final.mse < 0.01);
  CHECK(r.rows.back().values.at(0).second == r.final.mse);

  // The bar is out of reach without training: the same model, untrained.
  Tape<float> tape;
  Rng rng(1);
  AddingModel<float> untrained(tape, CellType::LSTM, 16, rng);
  const Evaluation before = evaluate(untrained, tape, held_out_set(10, 500));
  CHECK(before.mse > 0.1);
}

TEST_CASE("adding problem: metrics, and --eval-only gives the figures of the run that saved it",
          "[apps][adding][checkpoint]") {
  const data::test::TmpDir dir;
  const std::string path = (dir / "gru.st").string(), csv = (dir / "gru.csv").string();
  // A cell with two bias tensors: every parameter must round-trip.
  const RunResult trained =
      App({"--cell", "gru", "--steps", "60", "--eval-every", "20", "--save", path, "--metrics", csv}).run();
  REQUIRE(trained.rows.size() == 3);

  const std::string rows = read_file(csv);
  CHECK(rows.rfind("step,epoch,loss,eval_mse,baseline,train_seconds\n20,1,", 0) == 0);
  CHECK(std::count(rows.begin(), rows.end(), '\n') == 4);
  CHECK(ckpt::read_meta(path).at("trainer").at("step") == 60);

  const std::string saved = read_file(path);
  App e({"--load", path, "--eval-only"}, /*small=*/false);
  CHECK(e.settings.cell == "gru");  // from the checkpoint
  CHECK(e.settings.hidden == 16);
  CHECK(e.settings.length == 10);
  const RunResult loaded = e.run();
  CHECK(loaded.first_step == 60);
  CHECK(loaded.last_step == 60);
  CHECK(loaded.rows.empty());
  CHECK(loaded.final.mse == trained.final.mse);
  CHECK(read_file(path) == saved);  // evaluating writes nothing

  // On longer sequences: a setting of the run, so it must be allowed.
  CHECK_THROWS_AS(App({"--load", path, "--eval-only", "--length", "20"}, false), app::UsageError);
  const RunResult longer = App({"--load", path, "--eval-only", "--length", "20", "--allow-changes"}, false).run();
  CHECK(std::isfinite(longer.final.mse));
  CHECK(longer.final.mse != loaded.final.mse);

  CHECK_THROWS_AS(App({"--load", (dir / "absent.st").string(), "--eval-only"}, false), Error);
}

TEST_CASE("adding problem: --load trains on to --steps, byte for byte the uninterrupted run",
          "[apps][adding][checkpoint]") {
  const data::test::TmpDir dir;
  const std::string half = (dir / "half.st").string(), whole = (dir / "whole.st").string();
  const std::string half_csv = (dir / "half.csv").string(), whole_csv = (dir / "whole.csv").string();
  App({"--steps", "40", "--eval-every", "20", "--save", half, "--metrics", half_csv}).run();
  const RunResult straight =
      App({"--steps", "80", "--eval-every", "20", "--save", whole, "--metrics", whole_csv}).run();

  const RunResult resumed =
      App({"--load", half, "--steps", "80", "--eval-every", "20", "--save", half, "--metrics", half_csv},
          false)
          .run();
  CHECK(resumed.first_step == 40);
  CHECK(resumed.last_step == 80);  // --steps is the end of the run, not a count of more
  REQUIRE(resumed.rows.size() == 2);
  CHECK(resumed.rows.front().step == 60);
  CHECK(ckpt::read_meta(half).at("trainer").at("step") == 80);
  CHECK(read_file(half) == read_file(whole));
  CHECK(resumed.final.mse == straight.final.mse);
  const std::string rows = read_file(half_csv);
  CHECK(without_times(rows) == without_times(read_file(whole_csv)));
  CHECK(std::count(rows.begin(), rows.end(), '\n') == 5);  // the header, steps 20 40 60 80
}

TEST_CASE("adding problem: a setting that differs from the checkpoint's is a usage error",
          "[apps][adding][checkpoint][cli]") {
  const data::test::TmpDir dir;
  const std::string path = (dir / "lstm.st").string();
  App({"--steps", "5", "--save", path}).run();
  CHECK_THROWS_AS(App({"--load", path, "--hidden", "5"}, false), app::UsageError);
  CHECK_THROWS_WITH(App({"--load", path, "--cell", "rnn"}, false),
                    Catch::Contains("--cell") && Catch::Contains("--allow-changes"));
  CHECK_THROWS_AS(App({"--load", path, "--seed", "2"}, false), app::UsageError);
  CHECK_THROWS_AS(App({"--load", path, "--clip", "0.5"}, false), app::UsageError);
  CHECK_NOTHROW(App({"--load", path, "--lr", "0.1", "--allow-changes"}, false));
  CHECK_NOTHROW(App({"--load", path, "--lr", "0.01"}, false));  // the same value, spelled otherwise
  CHECK_THROWS_AS(App({"--load", path, "--eval-size", "100"}, false), app::UsageError);
  // Not settings of the run: how often it is evaluated, where it ends.
  CHECK_NOTHROW(App({"--load", path, "--eval-every", "7", "--steps", "9"}, false));
  // Settings not given come from the checkpoint.
  const App resumed({"--load", path}, false);
  CHECK(resumed.settings.hidden == 16);
  CHECK(resumed.settings.lr == 1e-2);
  CHECK(resumed.settings.eval_size == 500);
  CHECK(resumed.frame.flags().clip == 1.0);
}

TEST_CASE("adding problem: a non-finite run stops with an error and keeps the last checkpoint",
          "[apps][adding][nan]") {
  const data::test::TmpDir dir;
  const std::string path = (dir / "good.st").string();
  App({"--steps", "20", "--save", path}).run();
  const std::string good = read_file(path);
  const std::string poisoned = (dir / "nan.st").string();
  test::write_poisoned_copy(path, poisoned, "model.head.weight", 3);
  App bad({"--load", poisoned, "--steps", "40", "--save", path}, false);
  CHECK_THROWS_AS(bad.run(), train::TrainingError);
  CHECK_THROWS_WITH(App({"--load", poisoned, "--steps", "40", "--save", path}, false).run(),
                    Catch::Contains("step 21") && Catch::Contains("nan"));
  CHECK(read_file(path) == good);
  // The executable: exit 1, the message on stderr.
  const Exe exe = run_exe("--load " + poisoned + " --steps 40 --save " + path);
  CHECK(exe.code == 1);
  CHECK_THAT(exe.err, Catch::StartsWith("adding_problem: error: step 21"));
  CHECK(read_file(path) == good);
}

TEST_CASE("adding problem: settings out of range are usage errors", "[apps][adding][cli]") {
  CHECK_NOTHROW(App({}, false));
  CHECK_THROWS_WITH(App({"--cell", "lsmt"}), Catch::Contains("--cell") && Catch::Contains("lsmt"));
  CHECK_THROWS_WITH(App({"--length", "1"}), Catch::Contains("--length"));
  CHECK_THROWS_AS(App({"--batch", "0"}), app::UsageError);
  CHECK_THROWS_AS(App({"--hidden", "1000000000"}), app::UsageError);
  CHECK_THROWS_AS(App({"--eval-size", "0"}), app::UsageError);
  CHECK_THROWS_AS(App({"--lr", "inf"}), app::UsageError);
  CHECK_THROWS_AS(App({"--lr", "nan"}), app::UsageError);
  CHECK_THROWS_AS(App({"--lr", "0"}), app::UsageError);
  CHECK_THROWS_AS(App({"--clip", "-1"}), app::UsageError);
  CHECK_THROWS_AS(App({"--clip", "nan"}), app::UsageError);
  CHECK_THROWS_AS(App({"--eval-only"}), app::UsageError);  // needs --load
  CHECK_THROWS_AS(App({"--steps", "0"}), app::UsageError);  // and --epochs 0: no end
  CHECK_THROWS_AS(App({"--data", "somewhere"}), app::UsageError);  // the app makes its data
}

TEST_CASE("adding problem: the executable's exit codes and messages", "[apps][adding][cli]") {
  const Exe help = run_exe("--help");
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Catch::Contains("exit codes: 0 success"));
  CHECK(test::longest_line(help.out) <= 80);
  const Exe cell = run_exe("--cell lsmt");
  CHECK(cell.code == 2);
  CHECK_THAT(cell.err, Catch::StartsWith("adding_problem: error:") && Catch::Contains("lsmt"));
  const Exe length = run_exe("--length 1");
  CHECK(length.code == 2);
  CHECK_THAT(length.err, Catch::StartsWith("adding_problem: error:") && Catch::Contains("--length"));
  // Every shared flag, given a bad value.
  for (const char* bad : {"--seed x", "--seed -1", "--threads 0", "--threads 1000", "--steps many",
                          "--steps -5", "--seed 18446744073709551616", "--epochs nan", "--eval-every -1", "--clip -1", "--clip nan",
                          "--clip inf", "--eval-only", "--steps 0", "--data .", "--lr inf",
                          "--hidden 1000000000", "--no-such-flag"}) {
    INFO(bad);
    const Exe r = run_exe(bad);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::StartsWith("adding_problem: error:"));
  }
  // Outputs are checked (a usage error), and a missing checkpoint read (a
  // failure), before any work.
  for (const auto& [bad, code] : std::vector<std::pair<std::string, int>>{
           {"--save /nonexistent/adding.st", 2},
           {"--metrics /nonexistent/adding.csv", 2},
           {"--load /nonexistent/adding.st --eval-only", 1}}) {
    INFO(bad);
    const Exe r = run_exe(bad);
    CHECK(r.code == code);
    CHECK_THAT(r.err, Catch::StartsWith("adding_problem: error:") && Catch::Contains("/nonexistent/"));
    CHECK(r.out.empty());
  }
  const Exe ok = run_exe("--length 4 --hidden 4 --steps 3 --eval-size 10");
  CHECK(ok.code == 0);
  CHECK(ok.err.empty());  // no progress line when stderr is not a terminal
  CHECK_THAT(ok.out, Catch::Contains("step     3  epoch  1"));
}

// Every ```cpp block of the tutorial follows a line naming its source file
// in backquotes; the block must stand in that file verbatim (a "// ..."
// line marks lines left out between two pieces).
TEST_CASE("adding problem: the tutorial quotes the example's code verbatim",
          "[apps][adding][docs]") {
  const fs::path root = TAPEGRAD_SOURCE_DIR;
  std::istringstream doc(read_file(root / "docs/writing_a_model.md"));
  std::string line, source_line;
  std::size_t blocks = 0;
  while (std::getline(doc, line)) {
    if (line != "```cpp") {
      if (!line.empty()) source_line = line;
      continue;
    }
    const std::size_t open = source_line.rfind("`apps/") != std::string::npos
                                 ? source_line.rfind("`apps/")
                                 : source_line.rfind("`tests/");
    INFO("the line before a ```cpp block: " << source_line);
    REQUIRE(open != std::string::npos);
    const std::size_t close = source_line.find('`', open + 1);
    const std::string path = source_line.substr(open + 1, close - open - 1);
    const std::string source = read_file(root / path);
    REQUIRE(!source.empty());
    std::vector<std::string> pieces(1);
    while (std::getline(doc, line) && line != "```") {
      if (line.find_first_not_of(' ') != std::string::npos &&
          line.substr(line.find_first_not_of(' ')) == "// ...")
        pieces.emplace_back();
      else
        pieces.back() += line + "\n";
    }
    std::size_t at = 0;
    for (const std::string& piece : pieces) {
      INFO("in " << path << ":\n" << piece);
      at = source.find(piece, at);
      REQUIRE(at != std::string::npos);
    }
    ++blocks;
  }
  CHECK(blocks >= 8);
}

TEST_CASE("adding problem: --export-torch writes the trained model, and with --eval-only the loaded one",
          "[apps][adding][torch]") {
  const data::test::TmpDir dir;
  const std::string st = (dir / "gru.st").string(), pt = (dir / "gru.safetensors").string();
  App({"--cell", "gru", "--steps", "20", "--eval-every", "20", "--save", st, "--export-torch", pt}).run();
  Tape<float> tape;
  Rng rng(99);
  AddingModel<float> model(tape, CellType::GRU, 16, rng);
  test::check_export(pt, model, st);
  CHECK(load_safetensors(pt).metadata.at("torch_modules") ==
        R"j({"rnn":"nn.GRU(input_size=2, hidden_size=16)","head":"nn.Linear(16, 1)"})j");

  const std::string again = (dir / "again.safetensors").string();
  App({"--load", st, "--eval-only", "--export-torch", again}, false).run();
  CHECK(read_file(again) == read_file(pt));
  // An earlier export may be replaced.
  App({"--load", st, "--eval-only", "--export-torch", again}, false).run();
  CHECK(read_file(again) == read_file(pt));
}

TEST_CASE("adding problem: PyTorch loads --export-torch's file and predicts what we do",
          "[apps][adding][torch][python]") {
  const std::string python = "/usr/bin/python3";
  const std::string script = std::string(TAPEGRAD_SOURCE_DIR) + "/tests/apps/torch_export.py";
  if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0)
    FAIL("PyTorch is missing: " << python
                                << " cannot import torch. Install it: apt-get install -y python3-torch "
                                   "(scripts/test.sh does)");
  const data::test::TmpDir dir;
  const std::string st = (dir / "lstm.st").string(), pt = (dir / "lstm.safetensors").string(),
                    io_path = (dir / "io.safetensors").string();
  App({"--steps", "30", "--eval-every", "30", "--save", st, "--export-torch", pt}).run();  // an LSTM

  // Our prediction, from the run's checkpoint, on sequences of another length.
  Tape<float> tape;
  Rng rng(5);
  AddingModel<float> model(tape, CellType::LSTM, 16, rng);
  ckpt::load<float>(st, model.named_parameters(), nullptr);
  const Batch<float> b = held_out_set(13, 8);
  Checkpoint io;
  put(io, "x", b.x);
  put(io, "y", model.forward(tape.constant(b.x)).value());
  save_safetensors(io_path, io);

  const Exe r = test::run_exe(python, "'" + script + "' '" + pt + "' '" + io_path + "'");
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::string last = r.out.substr(0, r.out.find_last_not_of('\n') + 1);
  last = last.substr(last.rfind('\n') + 1);
  const auto result = nlohmann::json::parse(last);
  std::cout << "PyTorch ran the exported adding_problem LSTM: max |torch - ours| = "
            << result.at("max_abs_diff").get<double>() << "\n";
  CHECK(result.at("tensors") == 6);  // weight_ih, weight_hh, bias_ih, bias_hh; head weight, bias
  CHECK(result.at("max_abs_diff").get<double>() <= 1e-5);
}
