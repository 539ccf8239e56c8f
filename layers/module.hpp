// A module is its parameters plus a forward function of ops. Parameters are
// tape leaves that persist across steps, registered where they are made;
// named_parameters() lists them in registration order with dotted names
// ("rnn.l0.fwd.weight_hh"), which optimizers, checkpoints and gradcheck all
// use, and collect_torch() under PyTorch's state_dict names and layouts, for
// export_torch/import_torch (layers/torch_state.hpp, layers/torch_io.hpp).
#pragma once

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <tapegrad/autograd/autograd.hpp>
#include <tapegrad/autograd/named_parameter.hpp>

namespace tg {

// What collect_torch fills, for the PyTorch interop (layers/torch_state.hpp).
template <class T>
struct TorchState;

// "tg::Linear<float>": a readable type name for error messages.
inline std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? name.get() : type.name();
}

// A module is its parameters and submodules, each registered once where it
// is made (in the constructor), libtorch's way:
//
//   struct Tagger : Module<float> {
//     Tagger(Tape<float>& tape, Rng& rng) : embed(tape, 1000, 64, rng), head(tape, 64, 9, rng) {
//       register_module("embed", embed);
//       register_module("head", head);
//     }
//     Embedding<float> embed;
//     Linear<float> head;
//   };
//
// Names ("head.weight"), the parameter list for the optimizer, checkpoints,
// the PyTorch mapping, train()/eval() and summary() all follow from the
// registration. The registry points at the members, so a module stays where
// it was made: it cannot be copied or moved (hold it in a std::unique_ptr to
// pass it around). A parameter that receives a gradient but no optimizer
// holds (a member not registered) is an error at the optimizer's step.
template <class T>
class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // Every parameter, frozen ones included, in registration order, with
  // dotted names prefixed by `prefix`: "rnn.l0.fwd.weight_ih", "head.bias".
  std::vector<NamedParameter<T>> named_parameters(const std::string& prefix = "") const {
    std::vector<NamedParameter<T>> out;
    append_parameters(prefix, out);
    return out;
  }
  // The parameters an optimizer updates: those that require grad (not frozen).
  std::vector<Var<T>> parameters() const {
    std::vector<Var<T>> out;
    for (auto& p : named_parameters())
      if (p.var.requires_grad()) out.push_back(p.var);
    return out;
  }
  std::size_t parameter_count() const {
    std::size_t n = 0;
    for (auto& p : named_parameters()) n += p.var.size();
    return n;
  }
  // The submodules, depth first, with dotted names ("rnn", "rnn.l0.fwd");
  // this module itself first, as "".
  std::vector<std::pair<std::string, const Module*>> named_modules() const {
    std::vector<std::pair<std::string, const Module*>> out{{"", this}};
    append_modules("", out);
    return out;
  }

  // Training mode (the default) or evaluation mode, for this module and every
  // submodule: dropout is applied only while training.
  void train(bool on = true) {
    training_ = on;
    for (Entry& e : entries_)
      if (e.module) e.module->train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Freezes (false) or unfreezes every parameter of this module and its
  // submodules: a frozen parameter requires no gradient, is left out of
  // parameters() and kept in named_parameters() (so checkpoints hold it).
  void requires_grad(bool on) {
    for (auto& p : named_parameters()) p.var.set_requires_grad(on);
  }

  // The PyTorch-style constructor of this module, as summary() prints it:
  // "Linear(in_features=128, out_features=10, bias=True)". Modules without
  // one of their own (a user's model) give their type's name.
  virtual std::string describe() const { return short_type_name(type_name(typeid(*this))); }

  // A table of the modules (name and describe()), their parameters (name,
  // shape, count) and the totals, as PyTorch's print(model) and Keras's
  // summary() show a model. Defined in layers/summary.cpp.
  std::string summary() const;

  // Appends this module's parameters under the names and layouts of its
  // PyTorch equivalent's state_dict, prefixed by `prefix` ("rnn."), for
  // export_torch and import_torch (layers/torch_io.hpp). By default a module
  // maps to a PyTorch module holding the same submodules and parameters
  // under the same names (a bare parameter as nn.Parameter, in our layout);
  // Linear, Embedding, Recurrent and the cells say how they map themselves.
  // Defined in layers/torch_io.cpp for float and double, with the others:
  // this header needs no PyTorch type but the name.
  virtual void collect_torch(const std::string& prefix, TorchState<T>& out) const;

 protected:
  // Registers a parameter (a Var member, made by tape.parameter) under
  // `name`; it may still be undefined (made later, or never: a Linear
  // without bias), and is listed once defined. Returns it.
  Var<T>& register_parameter(const std::string& name, Var<T>& parameter) {
    check_name(name);
    entries_.push_back({name, &parameter, nullptr});
    if (parameter.defined())
      parameter.tape().parameter_notes().label(parameter.node().get(), name, type_name(typeid(*this)));
    return parameter;
  }
  // Registers a submodule (a member, or one this module owns on the heap)
  // under `name`; its parameters are listed as "name.<theirs>". Returns it.
  template <class M>
  M& register_module(const std::string& name, M& module) {
    static_assert(std::is_base_of_v<Module<T>, M>, "register_module: not a Module of this value type");
    check_name(name);
    entries_.push_back({name, nullptr, &module});
    module.train(training_);
    return module;
  }

 private:
  struct Entry {
    std::string name;
    Var<T>* parameter;  // exactly one of the two is set
    Module* module;
  };
  void check_name(const std::string& name) const {
    if (name.empty() || name.front() == '.' || name.back() == '.')
      throw Error("Module: '" + name + "' is not a name for a parameter or submodule");
    for (const Entry& e : entries_)
      if (e.name == name)
        throw Error("Module: '" + name + "' is registered twice in " + type_name(typeid(*this)));
  }
  void append_parameters(const std::string& prefix, std::vector<NamedParameter<T>>& out) const {
    for (const Entry& e : entries_) {
      if (e.module) e.module->append_parameters(prefix + e.name + ".", out);
      else if (e.parameter->defined()) out.push_back({prefix + e.name, *e.parameter});
    }
  }
  void append_modules(const std::string& prefix, std::vector<std::pair<std::string, const Module*>>& out) const {
    for (const Entry& e : entries_)
      if (e.module) {
        out.emplace_back(prefix + e.name, e.module);
        e.module->append_modules(prefix + e.name + ".", out);
      }
  }
  static std::string short_type_name(std::string name) {
    // "tg::Linear<float>" -> "Linear"; "my::Model" -> "Model".
    const std::size_t angle = name.find('<');
    if (angle != std::string::npos) name.resize(angle);
    const std::size_t colon = name.rfind("::");
    return colon == std::string::npos ? name : name.substr(colon + 2);
  }

  std::vector<Entry> entries_;
  bool training_ = true;
};

}  // namespace tg
