// A linear-chain conditional random field over tag sequences.
//
// Emission scores e (T, B, C) (time-major, B sentences, C tags), tags y
// (T, B), lengths L_b >= 1 (steps t >= L_b are padding: never read).
// Parameters: transitions A (C, C) (A[i][j]: tag i followed by tag j),
// start s (C), end n (C). The score of a tag path of sentence b:
//   score(y) = s[y_0] + sum_{t<L} e[t,b,y_t] + sum_{1<=t<L} A[y_{t-1}, y_t] + n[y_{L-1}]
// The log-partition by the forward algorithm (alpha_t: log-sum over all
// paths ending in each tag at step t):
//   alpha_0 = s + e_0,  alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + A[i,j]) + e_t[j],
//   log Z = logsumexp_j(alpha_{L-1}[j] + n[j])
// and the loss is the negative log-likelihood, mean over the B sentences:
//   loss = (1/B) sum_b (log Z_b - score_b(y_b))
// Its gradient is the marginals minus the gold counts (forward-backward):
//   de[t,b,j] = (p(y_t = j) - [y_t = j]) / B,
//   dA[i,j]   = sum_{b,t} (p(y_{t-1} = i, y_t = j) - [gold]) / B, and so on.
// crf_nll is one fused op (one tape record): each step of the forward and
// backward recursions is one (B, C) x (C, C) product in exp space (with
// each row shifted by its maximum), computed in double whatever T.
//
// Constrained transitions: `allowed` (C x C of 0/1, and per tag for the
// start) forbids a transition outright: its score is -inf (exp 0), it gets
// no gradient, and Viterbi never takes it. For BIO tags, bio_constraints
// forbids I-X unless after B-X or I-X (and at the start).
//
// PyTorch has no CRF in core (torchtext's and pytorch-crf's are add-ons):
// the parameters export as plain tensors "transitions" (C, C), "start",
// "end" (C), in the layout above.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/layers/module.hpp>

namespace tg {

// Which transitions a CRF may take (1) or never takes (0).
struct CrfConstraints {
  std::vector<std::uint8_t> transition;  // C x C, row = previous tag; empty: all allowed
  std::vector<std::uint8_t> start;       // C; empty: all allowed
  bool empty() const { return transition.empty() && start.empty(); }
};

// BIO constraints for tag names like "O", "B-city", "I-city": I-X only
// after B-X or I-X, never first. Other names constrain nothing.
CrfConstraints bio_constraints(const std::vector<std::string>& tags);

// The fused loss: mean over sentences of log Z - score(gold). Shapes as
// above; a tag outside [0, C), a length of 0 or above T throws naming it.
template <class T>
Var<T> crf_nll(const Var<T>& emissions, const Var<T>& transitions, const Var<T>& start, const Var<T>& end,
               const Tensor<std::int64_t>& tags, const std::vector<std::size_t>& lengths,
               const CrfConstraints& constraints = {});

// The highest-scoring path per sentence: ids (T, B), 0 on padding.
template <class T>
Tensor<std::int64_t> crf_viterbi(const Tensor<T>& emissions, const Tensor<T>& transitions,
                                 const Tensor<T>& start, const Tensor<T>& end,
                                 const std::vector<std::size_t>& lengths, const CrfConstraints& constraints = {});

namespace detail {
// The shape checks both calls share (tags may be null: Viterbi has none).
void check_crf_shapes(const Shape& e, const Shape& a, const Shape& s, const Shape& n,
                      const Tensor<std::int64_t>* tags, const std::vector<std::size_t>& lengths,
                      const CrfConstraints& c);
}  // namespace detail

template <class T>
class Crf : public Module<T> {
 public:
  // Scores start at 0 (no random draw: adding a CRF to a model leaves the
  // other parameters' initialisation as it was).
  Crf(Tape<T>& tape, std::size_t tags, CrfConstraints constraints = {});

  Var<T> nll(const Var<T>& emissions, const Tensor<std::int64_t>& tags,
             const std::vector<std::size_t>& lengths) const {
    return crf_nll(emissions, transitions, start, end, tags, lengths, constraints);
  }
  Tensor<std::int64_t> decode(const Tensor<T>& emissions, const std::vector<std::size_t>& lengths) const {
    return crf_viterbi(emissions, transitions.value(), start.value(), end.value(), lengths, constraints);
  }
  // "CRF(num_tags=127, constrained=True)"
  std::string describe() const override;

  Var<T> transitions, start, end;
  CrfConstraints constraints;
};

}  // namespace tg
