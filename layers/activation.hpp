// The activations a recurrent cell can be configured with.
#pragma once

#include <string>

#include <tapegrad/autograd/autograd.hpp>

namespace tg {

enum class Activation { Tanh, Sigmoid, Relu, Identity };

template <class T>
Var<T> activate(Activation a, const Var<T>& x) {
  switch (a) {
    case Activation::Tanh: return tanh(x);
    case Activation::Sigmoid: return sigmoid(x);
    case Activation::Relu: return relu(x);
    case Activation::Identity: return x;
  }
  throw Error("activate: unknown activation");
}

inline Activation parse_activation(const std::string& name) {
  if (name == "tanh") return Activation::Tanh;
  if (name == "sigmoid") return Activation::Sigmoid;
  if (name == "relu") return Activation::Relu;
  if (name == "identity" || name == "linear") return Activation::Identity;
  throw Error("unknown activation '" + name + "' (expected tanh, sigmoid, relu or identity)");
}

inline const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Tanh: return "tanh";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Relu: return "relu";
    case Activation::Identity: return "identity";
  }
  return "?";
}

}  // namespace tg
