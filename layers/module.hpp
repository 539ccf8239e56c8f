// A module is its parameters plus a forward function of ops. Parameters are
// tape leaves that persist across steps; named_parameters() lists them in a
// fixed order with dotted names ("rnn.l0.fwd.weight_hh"), which optimizers,
// checkpoints and gradcheck all use.
//
// collect_torch() lists the same parameters under PyTorch's state_dict names
// and layouts, for export_torch/import_torch (layers/torch_io.hpp).
#pragma once

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <tapegrad/autograd/autograd.hpp>

namespace tg {

template <class T>
struct NamedParameter {
  std::string name;
  Var<T> var;
};

// A module's name from the prefix collect_torch got: "rnn" for "rnn.", "" at
// the top; and how errors say it: "module 'rnn'", "the model".
inline std::string torch_module_name(const std::string& prefix) {
  return !prefix.empty() && prefix.back() == '.' ? prefix.substr(0, prefix.size() - 1) : prefix;
}
inline std::string torch_module_str(const std::string& prefix) {
  return prefix.empty() ? "the model" : "module '" + torch_module_name(prefix) + "'";
}

// How a PyTorch tensor relates to our parameter.
enum class TorchLayout {
  Same,        // same shape, same order: biases, Embedding's (num, dim) table
  Transposed,  // ours (in, out), PyTorch's (out, in): Linear and recurrent weights
  // PyTorch keeps several tensors whose sum is this one parameter (an RNN's
  // or LSTM's b_ih + b_hh): export writes the value into the first of them
  // and zeros into the others; import adds them all up.
  Summand,
};

template <class T>
struct TorchParameter {
  std::string name;  // PyTorch's state_dict key: "rnn.weight_ih_l0_reverse"
  Var<T> var;        // our parameter
  TorchLayout layout = TorchLayout::Same;
};

// What collect_torch fills: the state_dict entries in PyTorch's order, and
// for each PyTorch module the call that builds it ("rnn" ->
// "nn.LSTM(input_size=3, hidden_size=8, num_layers=2, bidirectional=True)").
template <class T>
struct TorchState {
  std::vector<TorchParameter<T>> parameters;
  std::vector<std::pair<std::string, std::string>> modules;

  // An undefined var (a Linear without bias) is skipped, as in collect.
  void add(const std::string& name, const Var<T>& var, TorchLayout layout = TorchLayout::Same) {
    if (var.defined()) parameters.push_back({name, var, layout});
  }
  // `prefix` as passed to collect_torch ("rnn." or ""); stored as "rnn", "".
  void describe(const std::string& prefix, const std::string& constructor) {
    modules.emplace_back(torch_module_name(prefix), constructor);
  }
};

// "tg::Linear<float>": a readable type name for error messages.
inline std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? name.get() : type.name();
}

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

  // Appends this module's parameters under the names and layouts of its
  // PyTorch equivalent's state_dict, prefixed by `prefix` ("rnn."), for
  // export_torch and import_torch (layers/torch_io.hpp).
  // Linear, Embedding and Recurrent implement it; a model made of them
  // overrides it like collect, calling each member's with the member's name:
  //   rnn.collect_torch(prefix + "rnn.", out);
  //   head.collect_torch(prefix + "head.", out);
  // (a bare parameter: out.add(prefix + "scale", scale)). The default throws:
  // a module says itself what PyTorch module it is.
  virtual void collect_torch(const std::string& prefix, TorchState<T>& out) const {
    (void)out;
    throw Error("PyTorch interop: " + torch_module_str(prefix) + " (" + type_name(typeid(*this)) +
                ") has no PyTorch mapping: override Module::collect_torch (docs/checkpoints.md)");
  }
  TorchState<T> torch_state() const {
    TorchState<T> out;
    collect_torch("", out);
    return out;
  }

 protected:
  static void add(std::vector<NamedParameter<T>>& out, const std::string& prefix,
                  const std::string& name, const Var<T>& v) {
    if (v.defined()) out.push_back({prefix + name, v});
  }
};

}  // namespace tg
