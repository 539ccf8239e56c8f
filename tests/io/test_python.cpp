// Interop with an independent reader/writer: bench/torch/read_checkpoint.py
// (numpy only). Skipped with a warning when python3 or numpy is missing.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "helpers.hpp"

using namespace tg::test;

namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kScript = std::string(TAPEGRAD_SOURCE_DIR) + "/bench/torch/read_checkpoint.py";

bool have_numpy() {
  return std::system((kPython + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0;
}

std::string run_script(const std::string& mode, const std::string& path) {
  return run_ok(kPython + " '" + kScript + "' " + mode + " '" + path + "'");
}

}  // namespace

TEST_CASE("python/numpy reads the files we write") {
  if (!have_numpy()) {
    WARN("python3 with numpy not found at " << kPython << ": interop test skipped");
    return;
  }
  TempDir dir;
  tg::Checkpoint ckpt;
  ckpt.metadata = {{"epoch", "12"}, {"arch", "lstm \"small\""}};
  tg::put(ckpt, "w", tg::Tensor<float>{{0.1f, -2.5f, 3e-8f}, {1e30f, 0.0f, -0.0f}});
  tg::put(ckpt, "b", tg::Tensor<double>{1.0 / 3.0, -1e-300});
  tg::Tensor<std::int64_t> step = tg::Tensor<std::int64_t>::from_shape({});
  step() = 1234567890123LL;
  tg::put(ckpt, "step", step);
  tg::put(ckpt, "empty", tg::Tensor<float>::from_shape({0, 2}));
  const std::string path = dir.file("ours.safetensors");
  tg::save_safetensors(path, ckpt);

  const auto out = nlohmann::json::parse(run_script("read", path));
  CHECK(out["metadata"] == nlohmann::json(ckpt.metadata));
  const auto& t = out["tensors"];
  CHECK(t.size() == 4);
  CHECK(t["w"]["dtype"] == "F32");
  CHECK(t["w"]["shape"] == nlohmann::json({2, 3}));
  // Python prints each float32 widened to double, exactly.
  CHECK(t["w"]["values"].get<std::vector<double>>() ==
        std::vector<double>{0.1f, -2.5f, 3e-8f, 1e30f, 0.0f, -0.0f});
  CHECK(t["b"]["dtype"] == "F64");
  CHECK(t["b"]["values"].get<std::vector<double>>() == std::vector<double>{1.0 / 3.0, -1e-300});
  CHECK(t["step"]["dtype"] == "I64");
  CHECK(t["step"]["shape"] == nlohmann::json::array());
  CHECK(t["step"]["values"][0].get<std::int64_t>() == 1234567890123LL);
  CHECK(t["empty"]["shape"] == nlohmann::json({0, 2}));
  CHECK(t["empty"]["values"].empty());
}

TEST_CASE("we read the files python/numpy writes") {
  if (!have_numpy()) {
    WARN("python3 with numpy not found at " << kPython << ": interop test skipped");
    return;
  }
  TempDir dir;
  const std::string path = dir.file("theirs.safetensors");
  run_script("write", path);
  // Their header is unpadded, ", "-separated, F32 before F64 (unaligned).
  tg::Checkpoint ckpt = tg::load_safetensors(path);
  CHECK(ckpt.metadata == std::map<std::string, std::string>{{"writer", "numpy"}});
  tg::check_names(ckpt, {"w", "b", "step"});
  CHECK(same(tg::get<float>(ckpt, "w", {2, 3}),
             tg::Tensor<float>{{0, 0.25f, 0.5f}, {0.75f, 1, 1.25f}}));
  CHECK(same(tg::get<double>(ckpt, "b", {2}), tg::Tensor<double>{0.1, -2.5}));
  CHECK(tg::get<std::int64_t>(ckpt, "step", {})() == 7);
}
