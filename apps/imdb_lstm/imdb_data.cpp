// imdb_lstm's data: the reviews file of --data, the vocabulary saved beside
// a checkpoint, and what the run prints about the data it read.
#include <filesystem>

#include <fmt/core.h>

#include "apps/imdb_lstm/imdb_app.hpp"
#include <tapegrad/checkpoint/state.hpp>
#include <tapegrad/datasets/fetch.hpp>
#include <tapegrad/datasets/sha256.hpp>

namespace tg::imdb {
namespace {

// The settings that define the model: a checkpoint must hold every one.
constexpr const char* kModelFlags[] = {"--vocab",  "--maxlen",        "--embed", "--hidden",
                                       "--layers", "--bidirectional", "--mask",  "--dropout"};

// Throws tg::Error naming the key when a --load checkpoint lacks a model
// setting (the frame would silently keep the flag's default).
void require_model_settings(const nlohmann::json& meta, const std::string& path) {
  for (const char* flag : kModelFlags) ckpt::at(meta, std::string("/config/") + flag, path);
}

}  // namespace

std::filesystem::path reviews_file(const std::string& data) {
  const std::filesystem::path p(data);
  std::error_code ec;
  if (!data.empty() && std::filesystem::is_regular_file(p, ec)) return p;
  return data::data_files(data::imdb_package(), p).at(0);
}

data::Imdb load_data(const std::string& data, const Settings& s) {
  data::ImdbOptions o;
  o.vocab_tokens = s.vocab;
  o.maxlen = s.maxlen;
  return data::load_imdb(reviews_file(data), o);
}

std::string vocab_path(const std::string& checkpoint) { return checkpoint + ".vocab"; }

data::Vocab load_vocab(const std::string& path, const nlohmann::json& meta) {
  const std::string vp = vocab_path(path);
  const nlohmann::json& want = ckpt::at(meta, "/vocab_sha256", path);
  if (!want.is_string()) throw Error(path + ": checkpoint metadata 'vocab_sha256' is not a string");
  std::error_code ec;
  if (!std::filesystem::exists(vp, ec))
    throw Error(path + ": its vocabulary " + vp + " is missing (saved beside the checkpoint)");
  const std::string have = data::sha256_file(vp);
  if (have != want.get<std::string>())
    throw Error(vp + " is not the vocabulary saved with " + path + " (its sha256 is " + have +
                ", the checkpoint's vocabulary has " + want.get<std::string>() +
                "): the vocabulary belongs to another model");
  return data::Vocab::load(vp);
}

const std::vector<std::pair<std::string, std::string>>& protocol_settings() {
  static const std::vector<std::pair<std::string, std::string>> values = {
      {"--mask", "false"}, {"--bidirectional", "false"}, {"--pool", "last"},    {"--dropout", "0"},
      {"--embed-dropout", "0"}, {"--valid", "0"},      {"--schedule", "constant"}, {"--lr", "0.001"}};
  return values;
}

namespace {

void set_option(app::Frame& frame, const std::string& name, const std::string& value) {
  CLI::Option* opt = frame.cli().get_option(name);
  opt->add_result(value);
  opt->run_callback();
}

}  // namespace

void resolve_checkpoint_settings(app::Frame& frame) {
  if (frame.flags().load.empty()) return;
  for (const auto& [name, value] : protocol_settings())
    if (!frame.given(name) && !frame.loaded_meta().contains(nlohmann::json::json_pointer("/config/" + name)))
      set_option(frame, name, value);
}

void resolve_valid(app::Frame& frame, std::size_t train_reviews) {
  if (!frame.given("--valid")) set_option(frame, "--valid", std::to_string(train_reviews / 10));
}

data::Vocab checkpoint_vocab(const app::Frame& frame) {
  const std::string& path = frame.flags().load;
  require_model_settings(frame.loaded_meta(), path);
  return load_vocab(path, frame.loaded_meta());
}

void describe_data(const data::Imdb& d, const Settings& s, std::FILE* out) {
  fmt::print(out, "first training review (label {}):\n{}\n", d.train.size() ? int(d.train.labels[0]) : -1,
             d.first_train_text);
  if (d.train.size()) {
    std::string ids;
    const std::int32_t* row = d.train.ids.data();
    for (std::size_t t = s.maxlen >= 12 ? s.maxlen - 12 : 0; t < s.maxlen; ++t)
      ids += fmt::format("{}{}", ids.empty() ? "" : " ", row[t]);
    fmt::print(out, "its last ids: {}\n", ids);
  }
  fmt::print(out, "{} train / {} test reviews; {} distinct train tokens; vocabulary of {} ids\n",
             d.train.size(), d.test.size(), d.distinct_train_tokens, d.vocab.size());
  if (d.vocab.tokens().size() < s.vocab)  // small data: one row per token seen
    fmt::print(out, "note: the training split has only {} distinct tokens (--vocab {})\n",
               d.vocab.tokens().size(), s.vocab);
}

}  // namespace tg::imdb
