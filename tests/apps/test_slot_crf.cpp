// slot_filling --crf: the tagger's CRF (its parameters, loss and Viterbi
// tags), the BIO check of the train split, and the executable's flag
// through a checkpoint.
#include <catch2/catch.hpp>

#include <fstream>
#include <numeric>

#include "apps/slot_filling/slot_app.hpp"
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/datasets/slots/ticket_corpus.hpp>
#include <tapegrad/io/safetensors.hpp>
#include "tests/apps/app_exe.hpp"  // run_exe

using namespace tg;
using namespace tg::slotapp;

namespace {

const slots::SlotData& corpus() {
  static const slots::SlotData d = slots::make_ticket_corpus({20240501, 300, 30, 30});
  return d;
}

ModelConfig crf_config() {
  ModelConfig c;
  c.embed = 8;
  c.hidden = 8;
  c.crf = true;
  return c;
}

}  // namespace

TEST_CASE("slot tagger --crf: CRF parameters last, its loss per token, BIO-respecting Viterbi tags",
          "[apps][slot_filling][crf]") {
  SlotModel m = make_model(corpus(), crf_config(), 1);
  const auto named = m.tagger->named_parameters();
  REQUIRE(named.back().name == "crf.end");
  REQUIRE(named[named.size() - 3].name == "crf.transitions");
  const slots::EncodedSplit enc = slots::encode(corpus().train, m.vocab, m.tags);
  const slots::Batch batch = slots::make_batch(enc, {0, 1, 2, 3});
  Rng rng(2);
  m.tagger->eval();
  const Var<float> scores = m.tagger->forward(batch.words, batch.lengths, rng);
  const std::size_t tokens = std::accumulate(batch.lengths.begin(), batch.lengths.end(), std::size_t(0));
  const float want = m.tagger->crf->nll(scores, Tensor<std::int64_t>(batch.tags), batch.lengths).value()() *
                     4.f / float(tokens);
  REQUIRE(m.tagger->loss(scores, batch).value()() == Approx(want));
  // An untrained tagger's argmax breaks BIO often; its Viterbi never does.
  const auto tags = slots::decode_tags(m.tagger->predict(scores.value(), batch.lengths), batch.lengths, m.tags);
  for (const auto& sentence : tags)
    for (std::size_t t = 0; t < sentence.size(); ++t) {
      if (sentence[t].rfind("I-", 0) != 0) continue;
      INFO(sentence[t] << " at " << t);
      REQUIRE(t > 0);
      REQUIRE(sentence[t - 1].substr(2) == sentence[t].substr(2));
    }
}

TEST_CASE("slot tagger --crf: a train sentence breaking BIO is an error naming it", "[apps][slot_filling][crf]") {
  slots::SlotData data = corpus();
  data.train[4].tags[0] = "I-dest";
  REQUIRE_THROWS_WITH(make_model(data, crf_config(), 1),
                      Catch::Matchers::Contains("train sentence 5 has I-dest after the start"));
  ModelConfig plain = crf_config();
  plain.crf = false;
  REQUIRE_NOTHROW(make_model(data, plain, 1));  // the softmax tagger learns any tag order
}

TEST_CASE("slot_filling: the CRF by default, --crf=false the softmax, and the checkpoint keeps it for --tag",
          "[apps][slot_filling][crf][cli]") {
  const data::test::TmpDir dir;
  const std::string ckpt = (dir / "crf.st").string();
  const test::Exe softmax = test::run_exe(SLOT_FILLING_EXE, "--crf=false --epochs 1");
  REQUIRE(softmax.code == 0);
  REQUIRE(softmax.out.find("-> CRF") == std::string::npos);
  const test::Exe trained = test::run_exe(SLOT_FILLING_EXE, "--epochs 1 --save " + ckpt);
  INFO(trained.err);
  REQUIRE(trained.code == 0);
  REQUIRE(trained.out.find("-> CRF (BIO-constrained, Viterbi)") != std::string::npos);
  const test::Exe tagged = test::run_exe(SLOT_FILLING_EXE, "--load " + ckpt + " --tag 'leave taipei'");
  INFO(tagged.err);
  REQUIRE(tagged.code == 0);
  REQUIRE(tagged.out.find("taipei") != std::string::npos);
}

TEST_CASE("slot_filling: a checkpoint from before --crf and --schedule resumes as the softmax at a constant rate",
          "[apps][slot_filling][crf][schedule][checkpoint]") {
  const data::test::TmpDir dir;
  const std::string old = (dir / "old.st").string(), straight = (dir / "straight.st").string();
  const std::string model = "--crf=false --schedule constant --seed 3 --epochs ";
  REQUIRE(test::run_exe(SLOT_FILLING_EXE, model + "1 --save " + old).code == 0);
  REQUIRE(test::run_exe(SLOT_FILLING_EXE, model + "2 --save " + straight).code == 0);
  // The settings as a checkpoint written before the two flags existed.
  Checkpoint c = load_safetensors(old);
  nlohmann::json meta = nlohmann::json::parse(c.metadata.at(ckpt::kMetaKey));
  REQUIRE(meta["config"].erase("--crf") == 1);
  REQUIRE(meta["config"].erase("--schedule") == 1);
  c.metadata[ckpt::kMetaKey] = meta.dump();
  save_safetensors(old, c);
  const test::Exe resumed = test::run_exe(SLOT_FILLING_EXE, "--load " + old + " --epochs 2 --save " + old);
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK(resumed.out.find("-> CRF") == std::string::npos);
  CHECK(resumed.out.find("cosine") == std::string::npos);
  // The same weights as the run that never stopped (the settings keys differ).
  const Checkpoint a = load_safetensors(old), b = load_safetensors(straight);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, t] : b.tensors) {
    INFO(name);
    REQUIRE(a.tensors.count(name) == 1);
    CHECK(a.tensors.at(name).bytes == t.bytes);
  }
}
