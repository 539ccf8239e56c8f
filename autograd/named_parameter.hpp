// A parameter under its dotted name ("rnn.l0.fwd.weight_ih"), as
// Module::named_parameters() lists them. Optimizers, checkpoints, the Trainer
// and data parallelism pair state with a parameter by this name, so they
// need only this and the tape, not the layers.
#pragma once

#include <string>

#include <tapegrad/autograd/tape.hpp>

namespace tg {

template <class T>
struct NamedParameter {
  std::string name;
  Var<T> var;
};

}  // namespace tg
