#include <tapegrad/layers/linear.hpp>

#include <fmt/format.h>

#include <tapegrad/layers/init.hpp>

namespace tg {

template <class T>
Linear<T>::Linear(Tape<T>& tape, std::size_t in, std::size_t out, Rng& rng, bool with_bias) {
  weight = tape.parameter(init::fan_in_uniform<T>(Shape{in, out}, in, rng));
  if (with_bias) bias = tape.parameter(init::fan_in_uniform<T>(Shape{out}, in, rng));
  this->register_parameter("weight", weight);
  this->register_parameter("bias", bias);
}

template <class T>
std::string Linear<T>::describe() const {
  return "Linear(in_features=" + std::to_string(weight.shape()[0]) + ", out_features=" +
         std::to_string(weight.shape()[1]) + ", bias=" + (bias.defined() ? "True" : "False") + ")";
}

template <class T>
Var<T> Linear<T>::forward(const Var<T>& x) const {
  return bias.defined() ? affine(x, weight, bias) : matmul(x, weight);
}

template <class T>
Embedding<T>::Embedding(Tape<T>& tape, std::size_t num, std::size_t dim, Rng& rng,
                        std::int64_t pad)
    : padding_id(pad) {
  Tensor<T> w = normal<T>(Shape{num, dim}, T(0), T(1), rng);
  if (pad >= 0) {
    if (static_cast<std::size_t>(pad) >= num)
      throw Error("Embedding: padding id " + std::to_string(pad) + " is not below " +
                  std::to_string(num) + " rows");
    std::fill_n(w.data() + pad * dim, dim, T(0));
  }
  weight = tape.parameter(std::move(w));
  this->register_parameter("weight", weight);
}

template <class T>
std::string Embedding<T>::describe() const {
  return "Embedding(" + std::to_string(weight.shape()[0]) + ", " + std::to_string(weight.shape()[1]) +
         (padding_id >= 0 ? ", padding_idx=" + std::to_string(padding_id) : std::string()) + ")";
}

template <class T>
std::string Dropout<T>::describe() const {
  return fmt::format("Dropout(p={})", p);
}

template class Linear<float>;
template class Linear<double>;
template class Embedding<float>;
template class Embedding<double>;
template class Dropout<float>;
template class Dropout<double>;

}  // namespace tg
