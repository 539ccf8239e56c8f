// Everything that knows PyTorch's names: the collect_torch of Module (the
// default), Linear, Embedding and Recurrent, and the export and import
// through them.
#include <tapegrad/layers/torch_io.hpp>

#include <map>
#include <set>
#include <typeinfo>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <xtensor/xmanipulation.hpp>

#include <tapegrad/layers/linear.hpp>
#include <tapegrad/layers/recurrent.hpp>

namespace tg {

// ---- the mappings ----------------------------------------------------------

// A module of registered layers maps to a PyTorch module of the same
// submodules and parameters, under the same names.
template <class T>
void Module<T>::collect_torch(const std::string& prefix, TorchState<T>& out) const {
  for (const Entry& e : entries_) {
    if (e.module) e.module->collect_torch(prefix + e.name + ".", out);
    else out.add(prefix + e.name, *e.parameter);
  }
}

template <class T>
void Linear<T>::collect_torch(const std::string& prefix, TorchState<T>& out) const {
  out.add(prefix + "weight", weight, TorchLayout::Transposed);
  out.add(prefix + "bias", bias);
  out.describe(prefix, fmt::format("nn.Linear({}, {}{})", weight.shape()[0], weight.shape()[1],
                                   bias.defined() ? "" : ", bias=False"));
}

template <class T>
void Embedding<T>::collect_torch(const std::string& prefix, TorchState<T>& out) const {
  out.add(prefix + "weight", weight);
  out.describe(prefix, fmt::format("nn.Embedding({}, {}{})", weight.shape()[0], weight.shape()[1],
                                   padding_id >= 0 ? fmt::format(", padding_idx={}", padding_id)
                                                   : std::string()));
}

namespace {

// PyTorch's class for a cell ("RNN", "LSTM", "GRU"), or tg::Error naming
// what it has no equivalent of in the PyTorch module it would be: nn.LSTM
// for a layer's cell (`suffix` ""), nn.LSTMCell for a cell on its own ("Cell").
template <class T>
std::string torch_class(const Cell<T>& cell, const std::string& where, const std::string& suffix) {
  auto theirs = [&](const char* kind) { return "nn." + std::string(kind) + suffix; };
  auto pytorch_has = [&](Activation a, const char* what, const std::string& they) {
    if (a != Activation::Tanh)
      throw Error(where + ": " + what + " " + activation_name(a) +
                  " has no PyTorch equivalent (" + they + ")");
  };
  if (typeid(cell) == typeid(RNNCell<T>)) {
    const Activation a = static_cast<const RNNCell<T>&>(cell).activation;
    if (a != Activation::Relu)
      pytorch_has(a, "the RNN activation", theirs("RNN") + " has tanh or relu");
    return "RNN";
  }
  if (typeid(cell) == typeid(LSTMCell<T>)) {
    const auto& o = static_cast<const LSTMCell<T>&>(cell).options;
    if (o.peephole)
      throw Error(where + ": LSTM peephole connections have no PyTorch equivalent (" +
                  theirs("LSTM") + " has none)");
    pytorch_has(o.cell_activation, "the LSTM cell activation (g)", theirs("LSTM") + " uses tanh");
    pytorch_has(o.output_activation, "the LSTM output activation (h)",
                theirs("LSTM") + " uses tanh");
    return "LSTM";
  }
  if (typeid(cell) == typeid(GRUCell<T>)) return "GRU";
  throw Error(where + ": the custom cell " + type_name(typeid(cell)) +
              " has no PyTorch equivalent (only our RNN, LSTM and GRU cells map to " +
              theirs("RNN") + ", " + theirs("LSTM") + " and " + theirs("GRU") + ")");
}

// A cell's tensors under PyTorch's names for its kind ("RNN", "LSTM",
// "GRU"), each name ending in `suffix` ("_l0_reverse" in nn.LSTM, "" in
// nn.LSTMCell). Our RNN's and LSTM's one bias is PyTorch's b_ih + b_hh.
template <class T>
void add_cell_tensors(TorchState<T>& out, const std::string& prefix, const std::string& suffix,
                      const Cell<T>& c, const std::string& kind) {
  auto weights = [&](const Var<T>& ih, const Var<T>& hh) {
    out.add(prefix + "weight_ih" + suffix, ih, TorchLayout::Transposed);
    out.add(prefix + "weight_hh" + suffix, hh, TorchLayout::Transposed);
  };
  auto one_bias = [&](const Var<T>& b) {
    out.add(prefix + "bias_ih" + suffix, b, TorchLayout::Summand);
    out.add(prefix + "bias_hh" + suffix, b, TorchLayout::Summand);
  };
  if (kind == "RNN") {
    const auto& r = static_cast<const RNNCell<T>&>(c);
    weights(r.weight_ih, r.weight_hh);
    one_bias(r.bias);
  } else if (kind == "LSTM") {
    const auto& m = static_cast<const LSTMCell<T>&>(c);
    weights(m.weight_ih, m.weight_hh);
    one_bias(m.bias);
  } else {
    const auto& g = static_cast<const GRUCell<T>&>(c);
    weights(g.weight_ih, g.weight_hh);
    out.add(prefix + "bias_ih" + suffix, g.bias_ih);
    out.add(prefix + "bias_hh" + suffix, g.bias_hh);
  }
}

// A cell used on its own: nn.RNNCell / nn.LSTMCell / nn.GRUCell.
template <class T>
void cell_collect_torch(const Cell<T>& c, const std::string& prefix, TorchState<T>& out) {
  const std::string kind = torch_class(c, "PyTorch interop: " + torch_module_str(prefix), "Cell");
  add_cell_tensors(out, prefix, "", c, kind);
  // weight_ih (in, G*H), read while the list named_parameters() returns lives.
  const std::size_t in = c.named_parameters().front().var.shape()[0];
  std::string call = fmt::format("nn.{}Cell({}, {}", kind, in, c.hidden_size());
  if (kind == "RNN" && static_cast<const RNNCell<T>&>(c).activation == Activation::Relu)
    call += ", nonlinearity='relu'";
  out.describe(prefix, call + ")");
}

}  // namespace

template <class T>
void RNNCell<T>::collect_torch(const std::string& prefix, TorchState<T>& out) const {
  cell_collect_torch<T>(*this, prefix, out);
}
template <class T>
void LSTMCell<T>::collect_torch(const std::string& prefix, TorchState<T>& out) const {
  cell_collect_torch<T>(*this, prefix, out);
}
template <class T>
void GRUCell<T>::collect_torch(const std::string& prefix, TorchState<T>& out) const {
  cell_collect_torch<T>(*this, prefix, out);
}

template <class T>
void Recurrent<T>::collect_torch(const std::string& prefix, TorchState<T>& out) const {
  const RecurrentOptions& o = options;
  std::string kind, nonlinearity;
  for (std::size_t l = 0; l < o.num_layers(); ++l)
    for (std::size_t d = 0; d < directions(); ++d) {
      const std::string where = "PyTorch interop: " + torch_module_str(prefix) + ", layer " +
                                std::to_string(l) +
                                (directions() == 1 ? "" : d ? " backward" : " forward");
      const std::string k = torch_class(cell(l, d), where, "");
      std::string nl;
      if (k == "RNN") nl = activation_name(static_cast<const RNNCell<T>&>(cell(l, d)).activation);
      if (!kind.empty() && (k != kind || nl != nonlinearity))
        throw Error(where + ": a " + k + (nl.empty() ? "" : " (" + nl + ")") + " cell after " +
                    kind + (nonlinearity.empty() ? "" : " (" + nonlinearity + ")") +
                    " cells: one PyTorch module has one kind of cell");
      kind = k;
      nonlinearity = nl;
    }
  for (std::size_t l = 0; l < o.num_layers(); ++l)
    for (std::size_t d = 0; d < directions(); ++d) {
      add_cell_tensors(out, prefix, "_l" + std::to_string(l) + (d ? "_reverse" : ""), cell(l, d), kind);
    }
  std::string call = fmt::format("nn.{}(input_size={}, hidden_size={}", kind, o.input_size(),
                                 o.hidden_size());
  if (o.num_layers() > 1) call += fmt::format(", num_layers={}", o.num_layers());
  if (nonlinearity == "relu") call += ", nonlinearity='relu'";
  if (o.batch_first()) call += ", batch_first=True";
  // Dropout between layers: nothing to say (and PyTorch warns) with one layer.
  if (o.dropout() > 0 && o.num_layers() > 1) call += fmt::format(", dropout={}", o.dropout());
  if (o.bidirectional()) call += ", bidirectional=True";
  out.describe(prefix, call + ")");
}

// ---- export and import -----------------------------------------------------

namespace {

template <class T>
TorchState<T> checked_state(const Module<T>& model) {
  TorchState<T> s = torch_state(model);
  std::set<std::string> seen;
  for (const auto& p : s.parameters) {
    if (!seen.insert(p.name).second)
      throw Error("PyTorch interop: two parameters map to the PyTorch name '" + p.name + "'");
    if (p.layout == TorchLayout::Transposed && p.var.dim() != 2)
      throw Error("PyTorch interop: '" + p.name + "' is to be transposed but has shape " +
                  shape_str(p.var.shape()));
  }
  return s;
}

template <class T>
Shape torch_shape(const TorchParameter<T>& p) {
  Shape s = to_shape(p.var.shape());
  if (p.layout == TorchLayout::Transposed) std::swap(s[0], s[1]);
  return s;
}

}  // namespace

template <class T>
Checkpoint torch_checkpoint(const Module<T>& model) {
  const TorchState<T> s = checked_state(model);
  Checkpoint ckpt;
  nlohmann::ordered_json modules = nlohmann::ordered_json::object();
  for (const auto& [name, call] : s.modules) modules[name] = call;
  ckpt.metadata["format"] = "pt";
  ckpt.metadata["torch_modules"] = modules.dump();
  std::set<const void*> summed;  // parameters already written into a summand
  for (const auto& p : s.parameters) {
    const Tensor<T>& v = p.var.value();
    switch (p.layout) {
      case TorchLayout::Same:
        put(ckpt, p.name, v);
        break;
      case TorchLayout::Transposed:
        put(ckpt, p.name, Tensor<T>(xt::transpose(v)));
        break;
      case TorchLayout::Summand:
        put(ckpt, p.name, summed.insert(p.var.node().get()).second ? v : zeros<T>(torch_shape(p)));
        break;
    }
  }
  return ckpt;
}

template <class T>
void export_torch(const std::string& path, const Module<T>& model) {
  save_safetensors(path, torch_checkpoint(model));
}

template <class T>
void import_torch(const Checkpoint& state, Module<T>& model, bool strict) {
  TorchState<T> s = checked_state(model);
  if (strict) {
    std::vector<std::string> names;
    for (const auto& p : s.parameters) names.push_back(p.name);
    check_names(state, names);
  }
  // Read and check everything first; write only when all is well.
  std::map<const void*, std::pair<Var<T>, Tensor<T>>> staged;
  for (const auto& p : s.parameters) {
    Tensor<T> v = get<T>(state, p.name, torch_shape(p));
    if (p.layout == TorchLayout::Transposed) v = Tensor<T>(xt::transpose(v));
    auto [it, fresh] = staged.try_emplace(p.var.node().get(), p.var, Tensor<T>());
    if (p.layout == TorchLayout::Summand && !fresh)
      it->second.second += v;
    else
      it->second.second = std::move(v);
  }
  for (auto& [node, target] : staged) {
    (void)node;
    Tensor<T>& value = target.first.value();
    std::copy(target.second.begin(), target.second.end(), value.begin());
  }
}

template <class T>
void import_torch(const std::string& path, Module<T>& model, bool strict) {
  import_torch(load_safetensors(path), model, strict);
}

#define TG_TORCH_IO_INSTANTIATE(T)                                                          \
  template void Module<T>::collect_torch(const std::string&, TorchState<T>&) const;        \
  template void Linear<T>::collect_torch(const std::string&, TorchState<T>&) const;        \
  template void Embedding<T>::collect_torch(const std::string&, TorchState<T>&) const;     \
  template void Recurrent<T>::collect_torch(const std::string&, TorchState<T>&) const;     \
  template void RNNCell<T>::collect_torch(const std::string&, TorchState<T>&) const;       \
  template void LSTMCell<T>::collect_torch(const std::string&, TorchState<T>&) const;      \
  template void GRUCell<T>::collect_torch(const std::string&, TorchState<T>&) const;       \
  template Checkpoint torch_checkpoint<T>(const Module<T>&);                               \
  template void export_torch<T>(const std::string&, const Module<T>&);                     \
  template void import_torch<T>(const Checkpoint&, Module<T>&, bool);                      \
  template void import_torch<T>(const std::string&, Module<T>&, bool);
TG_TORCH_IO_INSTANTIATE(float)
TG_TORCH_IO_INSTANTIATE(double)
#undef TG_TORCH_IO_INSTANTIATE

}  // namespace tg
