#include <tapegrad/train/callbacks.hpp>

#include <fmt/core.h>

namespace tg::train {
namespace {

const char* every_name(Every e) { return e == Every::Step ? "step" : "epoch"; }

// A value of a metadata object, or tg::Error naming the file and the key.
const Json& field(const Json& saved, const char* key, const std::string& path, const char* where) {
  if (!saved.is_object() || !saved.contains(key))
    throw Error(path + ": checkpoint metadata '" + where + "' has no '" + key + "'");
  return saved[key];
}

std::size_t count(const Json& saved, const char* key, const std::string& path, const char* where) {
  const Json& v = field(saved, key, path, where);
  if (!v.is_number_unsigned())
    throw Error(path + ": checkpoint metadata '" + where + "/" + key + "' is " + v.dump() +
                ", not a non-negative integer");
  return v.get<std::size_t>();
}

}  // namespace

std::string default_line(const Row& row) {
  std::string line = fmt::format("step {:5d}  epoch {:2d}  loss {:.4f}", row.step, row.epoch, row.loss);
  for (const auto& [name, value] : row.values) line += fmt::format("  {} {:.4f}", name, value);
  return line + fmt::format("  [train {:.1f} s]", row.train_seconds);
}

Json schedule_json(Every every, std::size_t counter) {
  return {{"every", every_name(every)}, {"counter", counter}};
}

std::size_t schedule_counter(const Json& saved, Every every, const std::string& path) {
  const char* where = "trainer/schedule";
  const Json& e = field(saved, "every", path, where);
  if (e != every_name(every))
    throw Error(path + ": saved by a run stepping its learning-rate schedule every " + e.dump() +
                ", this run steps it every \"" + every_name(every) + "\"");
  return count(saved, "counter", path, where);
}

}  // namespace tg::train
