// PyTorch interop: a model's parameters as a PyTorch state_dict in a
// safetensors file, and back (docs/checkpoints.md, "PyTorch interop").
//
//   tg::export_torch("model.safetensors", model);   // PyTorch: load_state_dict(strict=True)
//   tg::import_torch("from_torch.safetensors", model);
//
// The names and layouts come from Module::collect_torch (layers/torch_state.hpp):
//
//   ours                                   PyTorch
//   Linear     weight (in, out), bias      nn.Linear     weight (out, in), bias
//   Embedding  weight (num, dim)           nn.Embedding  weight (num, dim)
//   Recurrent  l{k}.fwd.weight_ih (in, GH) nn.RNN/LSTM/GRU  weight_ih_l{k} (GH, in)
//              l{k}.bwd.weight_hh (H, GH)                   weight_hh_l{k}_reverse (GH, H)
//              RNN, LSTM: bias (GH)                         bias_ih_l{k} + bias_hh_l{k}
//              GRU: bias_ih, bias_hh (3H)                   bias_ih_l{k}, bias_hh_l{k}
//
// Gate orders are PyTorch's already (LSTM i, f, g, o; GRU r, z, n with
// r * (h W_hn + b_hn)), so a weight is only transposed. An RNN's or LSTM's one
// bias is exported as bias_ih with bias_hh zero; import sets it to
// bias_ih + bias_hh. A model of these layers exports with its members' names
// as prefixes ("rnn.weight_ih_l0", "head.weight") once it overrides
// collect_torch. Only model tensors: no optimizer state.
#pragma once

#include <string>

#include <tapegrad/io/safetensors.hpp>
#include <tapegrad/layers/module.hpp>
#include <tapegrad/layers/torch_state.hpp>

namespace tg {

// The state_dict as a Checkpoint: one tensor per PyTorch key, in PyTorch's
// layout and dtype_of<T>() (float: F32), and metadata "format": "pt" and
// "torch_modules": a JSON object from each module's name to the PyTorch call
// that builds it (the top module's name is ""). Throws tg::Error naming what
// has no PyTorch equivalent, or two parameters exported under one name.
template <class T>
Checkpoint torch_checkpoint(const Module<T>& model);

// torch_checkpoint, saved atomically to `path`.
template <class T>
void export_torch(const std::string& path, const Module<T>& model);

// Sets the model's parameters from a PyTorch state_dict. Every name the model
// maps to must be present with PyTorch's shape and dtype_of<T>() (no dtype
// conversion: a float model reads F32); with `strict`, as PyTorch's
// load_state_dict(strict=True), no other tensor may be there. Everything is
// checked before anything is written: on error the model is unchanged.
template <class T>
void import_torch(const Checkpoint& state, Module<T>& model, bool strict = true);

// The same from a safetensors file (PyTorch: safetensors.torch.save_file(
// model.state_dict(), path)).
template <class T>
void import_torch(const std::string& path, Module<T>& model, bool strict = true);

}  // namespace tg
