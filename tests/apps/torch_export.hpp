// Checks of an app's --export-torch file: PyTorch's names and layouts for
// the app's model, and the weights the run ended with.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include <tapegrad/io/safetensors.hpp>
#include <tapegrad/layers/torch_io.hpp>

namespace tg::test {

// `exported` (written by --export-torch) is imported with strict names into
// `model` (built by the test with the run's settings, its weights zeroed
// first so that every value must come from the file); its parameters must
// then equal the tensors `prefix` + name of the app's checkpoint `saved`.
inline void check_export(const std::string& exported, Module<float>& model, const std::string& saved,
                         const std::string& prefix = "model.") {
  const Checkpoint file = load_safetensors(exported);
  CHECK(file.metadata.at("format") == "pt");
  REQUIRE(file.metadata.count("torch_modules") == 1);
  for (auto& p : model.named_parameters()) p.var.value().fill(0.0f);
  import_torch(file, model, /*strict=*/true);
  const Checkpoint checkpoint = load_safetensors(saved);
  std::size_t nonzero = 0;
  for (const auto& p : model.named_parameters()) {
    INFO(p.name);
    const Tensor<float> want = get<float>(checkpoint, prefix + p.name);
    REQUIRE(p.var.value() == want);
    for (float v : want) nonzero += v != 0.0f;
  }
  CHECK(nonzero > 0);
}

}  // namespace tg::test
