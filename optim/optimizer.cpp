#include <tapegrad/optim/optimizer.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_set>

#include <xtensor/xnoalias.hpp>

namespace tg {

double check_option(bool ok, const char* optimizer, const char* option, double v,
                    const char* rule) {
  if (ok) return v;
  std::ostringstream s;
  s << optimizer << ": " << option << " " << v << " " << rule;
  throw Error(s.str());
}

template <class T>
Optimizer<T>::Optimizer(std::vector<Var<T>> params, T lr, std::string name)
    : params_(std::move(params)), lr_(lr), name_(std::move(name)),
      step_count_(Tensor<T>::from_shape(Shape{})) {
  step_count_() = T(0);
  set_lr(lr);
  std::unordered_set<const Node<T>*> seen;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Var<T>& p = params_[i];
    const std::string which = name_ + ": parameter " + std::to_string(i);
    if (!p.defined()) throw Error(which + " is an empty Var");
    if (!p.node()->is_leaf())
      throw Error(which + " is the result of an op, not a leaf made by tape.parameter()");
    if (!p.requires_grad())
      throw Error(which + " does not require grad (made by tape.constant()?)");
    if (!seen.insert(p.node().get()).second)
      throw Error(which + " appears twice in the list; it would be updated twice per step");
    p.tape().parameter_notes().hold(p.node().get(), holder_);
  }
}

template <class T>
void Optimizer<T>::count_step() {
  if (!params_.empty()) {
    const std::string unheld = params_.front().tape().parameter_notes().first_unknown_with_grad({}, true);
    if (!unheld.empty())
      throw Error(name_ + ": " + unheld +
                  ", received a gradient but no optimizer updates it: it would train as a constant. "
                  "Register it where the model makes it (register_module(\"name\", member) for a layer, "
                  "register_parameter for a bare Var) and build the optimizer over model.parameters(); "
                  "a value meant to stay fixed is made with tape.constant() or frozen with "
                  "set_requires_grad(false)");
  }
  step_count_() += T(1);
}

template <class T>
void Optimizer<T>::zero_grad() {
  for (Var<T>& p : params_) p.zero_grad();
}

template <class T>
void Optimizer<T>::set_lr(T lr) {
  if (!(lr >= T(0))) throw Error(name_ + ": learning rate must be >= 0, got " + std::to_string(lr));
  lr_ = lr;
}

template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> Optimizer<T>::state() {
  return {{name_ + ".step", &step_count_}};
}

template <class T>
std::vector<Tensor<T>> Optimizer<T>::zeros_like_params() const {
  std::vector<Tensor<T>> out;
  out.reserve(params_.size());
  for (const Var<T>& p : params_) out.push_back(tg::zeros<T>(p.shape()));
  return out;
}

template <class T>
void Optimizer<T>::append_state(std::vector<std::pair<std::string, Tensor<T>*>>& out,
                                const std::string& key, std::vector<Tensor<T>>& per_param) {
  for (std::size_t i = 0; i < per_param.size(); ++i)
    out.emplace_back(key + "." + std::to_string(i), &per_param[i]);
}

template <class T>
void Optimizer<T>::check_sizes(std::size_t i,
                               std::initializer_list<const Tensor<T>*> state) const {
  const Var<T>& p = params_[i];
  if (p.grad().size() != p.size())
    throw Error(name_ + ": parameter " + std::to_string(i) + " has shape " +
                shape_str(p.shape()) + " but its gradient has shape " +
                shape_str(p.grad().shape()));
  for (const Tensor<T>* s : state)
    if (s->size() != p.size())
      throw Error(name_ + ": state of parameter " + std::to_string(i) + " has shape " +
                  shape_str(s->shape()) + ", the parameter " + shape_str(p.shape()) +
                  " (restored from another model?)");
}

namespace {

// Adds the squares of g[0, n) into the eight partial sums, element k into
// acc[k % 8] (n a multiple of 8 here; the caller adds a tail to acc[0]).
template <class T>
void add_squares(const T* g, std::size_t n, double* acc) {
  for (std::size_t k = 0; k + 8 <= n; k += 8)
    for (std::size_t j = 0; j < 8; ++j) acc[j] += double(g[k + j]) * double(g[k + j]);
}

// The rows of a table's gradient that hold anything, in ascending order, when
// only index_select wrote into it (the others are exactly zero) and its rows
// are a multiple of 8 long, so that skipping the zero rows leaves every
// partial sum of grad_norm as it was, bit for bit; else null.
template <class T>
const GradRows* sparse_rows(const Var<T>& p) {
  const GradRows* rows = p.grad_rows();
  if (!rows || p.dim() < 1 || p.shape()[0] == 0 || (p.size() / p.shape()[0]) % 8 != 0) return nullptr;
  return rows;
}

}  // namespace

template <class T>
double grad_norm(const std::vector<Var<T>>& params) {
  // Eight independent partial sums: one running sum is a chain of dependent
  // adds the compiler may not reorder (3-5 ms for 2.6M elements); eight
  // vectorise and overlap.
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (const Var<T>& p : params) {
    if (!p.has_grad()) continue;
    const T* g = p.grad().data();
    const std::size_t n = p.grad().size();
    if (const GradRows* rows = sparse_rows(p)) {
      // An embedding table: only the rows a batch touched (adding 0 to a
      // partial sum changes nothing).
      const std::size_t row = n / p.shape()[0];
      for (std::size_t r = 0; r < rows->mask.size(); ++r)
        if (rows->mask[r]) add_squares(g + r * row, row, acc);
      continue;
    }
    add_squares(g, n, acc);
    for (std::size_t k = n - n % 8; k < n; ++k) acc[0] += double(g[k]) * double(g[k]);
  }
  double sumsq = 0;
  for (double a : acc) sumsq += a;
  return std::sqrt(sumsq);
}

template <class T>
T clip_grad_norm(const std::vector<Var<T>>& params, T max_norm, double norm_before) {
  if (!(max_norm > T(0)))
    throw Error("clip_grad_norm: max_norm must be > 0, got " + std::to_string(max_norm));
  const T norm = static_cast<T>(norm_before);
  // PyTorch multiplies by min(coef, 1); skipping the multiply when coef >= 1
  // gives the same gradients without touching memory.
  const T coef = max_norm / (norm + T(1e-6));
  if (coef < T(1))
    for (const Var<T>& p : params) {
      if (!p.has_grad()) continue;
      Tensor<T>& g = p.node()->grad;
      if (const GradRows* rows = sparse_rows(p)) {  // the other rows are zero
        const std::size_t row = g.size() / p.shape()[0];
        for (std::size_t r : rows->list)
          for (T* x = g.data() + r * row; x != g.data() + (r + 1) * row; ++x) *x *= coef;
      } else {
        xt::noalias(g) *= coef;
      }
    }
  return norm;
}

template <class T>
T clip_grad_norm(const std::vector<Var<T>>& params, T max_norm) {
  return clip_grad_norm(params, max_norm, grad_norm(params));
}

template <class T>
void clip_grad_value(const std::vector<Var<T>>& params, T clip) {
  if (!(clip >= T(0)))
    throw Error("clip_grad_value: clip must be >= 0, got " + std::to_string(clip));
  for (const Var<T>& p : params) {
    if (!p.has_grad()) continue;
    T* g = p.node()->grad.data();
    const std::size_t n = p.grad().size();
    for (std::size_t k = 0; k < n; ++k) g[k] = std::clamp(g[k], -clip, clip);
  }
}

template class Optimizer<float>;
template class Optimizer<double>;
template float clip_grad_norm(const std::vector<Var<float>>&, float);
template double clip_grad_norm(const std::vector<Var<double>>&, double);
template float clip_grad_norm(const std::vector<Var<float>>&, float, double);
template double clip_grad_norm(const std::vector<Var<double>>&, double, double);
template double grad_norm(const std::vector<Var<float>>&);
template double grad_norm(const std::vector<Var<double>>&);
template void clip_grad_value(const std::vector<Var<float>>&, float);
template void clip_grad_value(const std::vector<Var<double>>&, double);

}  // namespace tg
