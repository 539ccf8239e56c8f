// Run reports from the library (train/report.hpp), as a model of one's own
// writes them: the notebook's cells in order, the metrics table of the
// Trainer's history, the figures (PNG, embedded and beside the notebook),
// epoch or step on the x axis; base64 and markdown tables.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <tapegrad/layers/linear.hpp>
#include <tapegrad/optim/sgd.hpp>
#include <tapegrad/train/report.hpp>

using namespace tg;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// All the text of the notebook's cells of one type, in order.
std::string cells_text(const nlohmann::json& nb, const std::string& type) {
  std::string s;
  for (const auto& c : nb["cells"])
    if (c["cell_type"] == type) s += c["source"].get<std::string>() + "\n";
  return s;
}

}  // namespace

TEST_CASE("report: base64 and markdown tables", "[train][report]") {
  CHECK(train::base64("") == "");
  CHECK(train::base64("f") == "Zg==");
  CHECK(train::base64("fo") == "Zm8=");
  CHECK(train::base64("foo") == "Zm9v");
  CHECK(train::base64("foobar") == "Zm9vYmFy");
  CHECK(train::base64(std::string("\xff\x00\x80", 3)) == "/wCA");
  CHECK(train::markdown_table({"a", "b"}, {{"1", "x|y"}}) == "| a | b |\n|---|---|\n| 1 | x\\|y |\n");
}

TEST_CASE("report: a model of one's own writes its notebook from the Trainer", "[train][report]") {
  const fs::path dir = fs::temp_directory_path() / fmt::format("tg_report_{}", ::getpid());
  fs::create_directories(dir);
  Tape<double> tape;
  Rng rng(3);
  Linear<double> model(tape, 2, 1, rng);
  SGD<double> sgd(model.parameters(), 0.1);
  const Tensor<double> x = uniform<double>({8, 2}, -1, 1, rng);
  const Tensor<double> y = Tensor<double>(xt::eval(xt::sum(x, {1}, xt::keep_dims) * 3.0));
  train::Options o;
  o.batches_per_epoch = 4;
  o.epochs = 3;
  o.progress = false;
  o.log = nullptr;
  train::Trainer<double> trainer(tape, model.named_parameters(), sgd, o);
  trainer.fit([&](const train::Batch&) { return mse(model(tape.constant(x)), tape.constant(y)); },
              [&]() -> train::Metrics {
                auto off = tape.no_grad();
                const double l = mse(model(tape.constant(x)), tape.constant(y)).item();
                tape.clear();
                return {{"test_mse", l}, {"train_mse", l * 2}};
              });

  train::Report report("my_model", "A line through the origin.");
  report.describe("## The model\n\n$$y = x W + b$$");
  report.training(trainer);
  report.set_run(train::RunInfo::here("my_model --epochs 3", "3", 1, 0.5));
  report.set_log("epoch 1\nepoch 2\n");
  report.table("Weights:", {"name", "value"}, {{"w0", "1.5"}});
  train::Chart chart{"a line", "x", "y", {{"the line", {0, 1, 2}, {0, 1, 4}}}, false};
  report.figure(train::chart_figure("line", chart), "**line**: a line.");
  report.write((dir / "run.ipynb").string());

  const nlohmann::json nb = nlohmann::json::parse(read(dir / "run.ipynb"));
  CHECK(nb["nbformat"] == 4);
  CHECK(nb["metadata"].contains("tapegrad"));
  const std::string md = cells_text(nb, "markdown");
  // In order: title, description, the run, log, metrics, curves, the sections added.
  std::size_t at = 0;
  for (const char* part : {"# my_model: report of a run", "$$y = x W + b$$", "## The run", "my_model --epochs 3",
                           "## Training log", "## Metrics", "## Curves", "Weights:", "**line**: a line."}) {
    INFO(part);
    const std::size_t found = md.find(part, at);
    REQUIRE(found != std::string::npos);
    at = found;
  }
  // One row per evaluation (each epoch end), the values as the log prints them.
  const auto& rows = trainer.history();
  REQUIRE(rows.size() == 3);
  CHECK_THAT(md, Catch::Contains(fmt::format("| 12 | 3 | {:.4f} | {:.4f} | {:.4f} |", rows[2].loss,
                                             rows[2].values[0].second, rows[2].values[1].second)));
  CHECK_THAT(md, Catch::Contains("against the epoch"));  // every row ends an epoch
  CHECK(cells_text(nb, "code").find("epoch 2") == std::string::npos);  // outputs are not sources
  // Figures: loss, mse (train and test on one), line; each embedded and beside.
  std::vector<std::string> files;
  for (const auto& c : nb["cells"])
    for (const auto& out : c.value("outputs", nlohmann::json::array()))
      if (out.contains("data")) {
        const std::string src = c["source"];
        const std::string file = src.substr(src.find("run."), src.find(".png") + 4 - src.find("run."));
        files.push_back(file);
        const std::string png = read(dir / file);
        CHECK(png.rfind("\x89PNG", 0) == 0);
        CHECK(out["data"]["image/png"] == train::base64(png));
      }
  CHECK(files == std::vector<std::string>{"run.loss.png", "run.mse.png", "run.line.png"});

  // plot_with: the MSEs on the loss figure, no figure of their own.
  train::Report grouped("my_model", "");
  grouped.training(trainer);
  grouped.plot_with("test_mse", "loss");
  grouped.plot_with("train_mse", "loss");
  grouped.write((dir / "grouped.ipynb").string());
  CHECK(fs::exists(dir / "grouped.loss.png"));
  CHECK_FALSE(fs::exists(dir / "grouped.mse.png"));
  fs::remove_all(dir);
}
