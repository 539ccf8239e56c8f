// The CRF layer: its parameters, BIO constraints, shape checks and Viterbi
// decoding (the loss is in crf_nll.cpp).
#include <tapegrad/layers/crf.hpp>

#include <limits>

namespace tg {

void detail::check_crf_shapes(const Shape& e, const Shape& a, const Shape& s, const Shape& n,
                      const Tensor<std::int64_t>* tags, const std::vector<std::size_t>& lengths,
                      const CrfConstraints& c) {
  if (e.size() != 3) throw Error("crf: emissions of shape " + shape_str(e) + ", not (T, B, C)");
  const std::size_t T = e[0], B = e[1], C = e[2];
  if (a != Shape{C, C} || s != Shape{C} || n != Shape{C})
    throw Error("crf: transitions " + shape_str(a) + ", start " + shape_str(s) + ", end " + shape_str(n) +
                " for emissions " + shape_str(e) + " (" + std::to_string(C) + " tags)");
  if ((!c.transition.empty() && c.transition.size() != C * C) || (!c.start.empty() && c.start.size() != C))
    throw Error("crf: constraints for " + std::to_string(c.start.size()) + " tags, the scores have " +
                std::to_string(C));
  if (lengths.size() != B)
    throw Error("crf: " + std::to_string(lengths.size()) + " lengths for " + std::to_string(B) + " sentences");
  for (std::size_t b = 0; b < B; ++b)
    if (lengths[b] == 0 || lengths[b] > T)
      throw Error("crf: sentence " + std::to_string(b) + " has length " + std::to_string(lengths[b]) +
                  ", not in [1, " + std::to_string(T) + "]");
  if (!tags) return;
  if (to_shape(tags->shape()) != Shape{T, B})
    throw Error("crf: tags of shape " + shape_str(tags->shape()) + " for emissions " + shape_str(e));
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t t = 0; t < lengths[b]; ++t) {
      const std::int64_t y = (*tags)(t, b);
      if (y < 0 || std::size_t(y) >= C)
        throw Error("crf: tag " + std::to_string(y) + " at step " + std::to_string(t) + " of sentence " +
                    std::to_string(b) + " is not in [0, " + std::to_string(C) + ")");
    }
}

CrfConstraints bio_constraints(const std::vector<std::string>& tags) {
  const std::size_t C = tags.size();
  CrfConstraints c{std::vector<std::uint8_t>(C * C, 1), std::vector<std::uint8_t>(C, 1)};
  for (std::size_t j = 0; j < C; ++j) {
    if (tags[j].rfind("I-", 0) != 0) continue;
    const std::string type = tags[j].substr(2);
    c.start[j] = 0;
    for (std::size_t i = 0; i < C; ++i)
      c.transition[i * C + j] = tags[i] == "B-" + type || tags[i] == "I-" + type;
  }
  return c;
}

namespace {

// Follows the back-pointers of sentence b from its best last tag.
void trace_back(const std::vector<std::int64_t>& from, std::size_t B, std::size_t C, std::size_t b,
                std::size_t L, std::int64_t last, Tensor<std::int64_t>& out) {
  out(L - 1, b) = last;
  for (std::size_t t = L - 1; t > 0; --t) out(t - 1, b) = from[(t * B + b) * C + std::size_t(out(t, b))];
}

}  // namespace

template <class T>
Tensor<std::int64_t> crf_viterbi(const Tensor<T>& e, const Tensor<T>& a, const Tensor<T>& s, const Tensor<T>& n,
                                 const std::vector<std::size_t>& lengths, const CrfConstraints& c) {
  detail::check_crf_shapes(to_shape(e.shape()), to_shape(a.shape()), to_shape(s.shape()), to_shape(n.shape()), nullptr,
                   lengths, c);
  const std::size_t T_ = e.shape()[0], B = e.shape()[1], C = e.shape()[2];
  const double ninf = -std::numeric_limits<double>::infinity();
  std::vector<double> av(a.data(), a.data() + C * C), delta(C), next(C);
  for (std::size_t k = 0; k < C * C; ++k)
    if (!c.transition.empty() && !c.transition[k]) av[k] = ninf;
  std::vector<std::int64_t> from(T_ * B * C, 0);
  Tensor<std::int64_t> out = Tensor<std::int64_t>::from_shape({T_, B});
  out.fill(0);
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t j = 0; j < C; ++j)
      delta[j] = (c.start.empty() || c.start[j]) ? double(s(j)) + double(e(0, b, j)) : ninf;
    for (std::size_t t = 1; t < lengths[b]; ++t) {
      std::fill(next.begin(), next.end(), ninf);
      std::int64_t* best = from.data() + (t * B + b) * C;
      for (std::size_t i = 0; i < C; ++i)
        for (std::size_t j = 0; j < C; ++j)
          if (delta[i] + av[i * C + j] > next[j]) next[j] = delta[i] + av[i * C + j], best[j] = std::int64_t(i);
      for (std::size_t j = 0; j < C; ++j) delta[j] = next[j] + double(e(t, b, j));
    }
    std::size_t last = 0;
    for (std::size_t j = 1; j < C; ++j)
      if (delta[j] + double(n(j)) > delta[last] + double(n(last))) last = j;
    trace_back(from, B, C, b, lengths[b], std::int64_t(last), out);
  }
  return out;
}

template <class T>
Crf<T>::Crf(Tape<T>& tape, std::size_t tags, CrfConstraints c) : constraints(std::move(c)) {
  if (tags == 0) throw Error("Crf: no tags");
  Tensor<T> zero_cc = Tensor<T>::from_shape({tags, tags}), zero_c = Tensor<T>::from_shape({tags});
  zero_cc.fill(T(0));
  zero_c.fill(T(0));
  transitions = tape.parameter(Tensor<T>(zero_cc));
  start = tape.parameter(Tensor<T>(zero_c));
  end = tape.parameter(Tensor<T>(zero_c));
  this->register_parameter("transitions", transitions);
  this->register_parameter("start", start);
  this->register_parameter("end", end);
}

template <class T>
std::string Crf<T>::describe() const {
  return "CRF(num_tags=" + std::to_string(start.shape()[0]) +
         ", constrained=" + (constraints.empty() ? "False" : "True") + ")";
}

template Tensor<std::int64_t> crf_viterbi(const Tensor<float>&, const Tensor<float>&, const Tensor<float>&,
                                          const Tensor<float>&, const std::vector<std::size_t>&,
                                          const CrfConstraints&);
template Tensor<std::int64_t> crf_viterbi(const Tensor<double>&, const Tensor<double>&, const Tensor<double>&,
                                          const Tensor<double>&, const std::vector<std::size_t>&,
                                          const CrfConstraints&);
template class Crf<float>;
template class Crf<double>;

}  // namespace tg
