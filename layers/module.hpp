// A module is its parameters plus a forward function of ops. Parameters are
// tape leaves that persist across steps; named_parameters() lists them in a
// fixed order with dotted names ("rnn.l0.fwd.weight_hh"), which optimizers,
// checkpoints and gradcheck all use.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/autograd.hpp"

namespace tg {

template <class T>
struct NamedParameter {
  std::string name;
  Var<T> var;
};

template <class T>
class Module {
 public:
  virtual ~Module() = default;

  std::vector<NamedParameter<T>> named_parameters() const {
    std::vector<NamedParameter<T>> out;
    collect("", out);
    return out;
  }
  std::vector<Var<T>> parameters() const {
    std::vector<Var<T>> out;
    for (auto& p : named_parameters()) out.push_back(p.var);
    return out;
  }
  std::size_t parameter_count() const {
    std::size_t n = 0;
    for (auto& p : named_parameters()) n += p.var.size();
    return n;
  }
  // Appends this module's parameters, names prefixed by `prefix`.
  virtual void collect(const std::string& prefix, std::vector<NamedParameter<T>>& out) const = 0;

 protected:
  static void add(std::vector<NamedParameter<T>>& out, const std::string& prefix,
                  const std::string& name, const Var<T>& v) {
    if (v.defined()) out.push_back({prefix + name, v});
  }
};

}  // namespace tg
