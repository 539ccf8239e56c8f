// What a module is in PyTorch's terms: the state_dict entries
// Module::collect_torch fills (names, and how each tensor's layout relates to
// our parameter) and the PyTorch call that builds each module. The Module
// base names only TorchState; layers/torch_io.hpp writes and reads the files.
// A model that maps itself (overrides collect_torch) includes this header.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <tapegrad/layers/module.hpp>

namespace tg {

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

// The model's state_dict entries and modules, in PyTorch's order.
template <class T>
TorchState<T> torch_state(const Module<T>& model) {
  TorchState<T> out;
  model.collect_torch("", out);
  return out;
}

}  // namespace tg
