// Module::summary(): the model as a table, as PyTorch's print(model) and
// Keras's summary() show one.
#include <tapegrad/layers/module.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace tg {

namespace {

// 1234567 -> "1,234,567"
std::string grouped(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

template <class T>
std::string Module<T>::summary() const {
  struct Row {
    std::string name, what, count;
  };
  std::vector<Row> rows{{"name", "module / shape", "parameters"}};
  std::size_t total = 0, trainable = 0;
  for (const auto& [name, module] : named_modules()) {
    rows.push_back({name.empty() ? "(model)" : name, module->describe(), ""});
    for (const Entry& e : module->entries_) {
      if (e.module || !e.parameter->defined()) continue;
      const Var<T>& p = *e.parameter;
      total += p.size();
      if (p.requires_grad()) trainable += p.size();
      rows.push_back({name.empty() ? e.name : name + "." + e.name,
                      shape_str(p.shape()) + (p.requires_grad() ? "" : " frozen"), grouped(p.size())});
    }
  }
  std::size_t w0 = 0, w1 = 0;
  for (const Row& r : rows) {
    w0 = std::max(w0, r.name.size());
    w1 = std::max(w1, r.what.size());
  }
  std::string out;
  for (const Row& r : rows) {
    std::string line = fmt::format("{:<{}}  {:<{}}  {:>11}", r.name, w0, r.what, w1, r.count);
    line.erase(line.find_last_not_of(' ') + 1);  // a module's row has no count
    out += line + "\n";
  }
  out += fmt::format("total: {} parameters ({} trainable, {} frozen)\n", grouped(total), grouped(trainable),
                     grouped(total - trainable));
  return out;
}

template class Module<float>;
template class Module<double>;

}  // namespace tg
