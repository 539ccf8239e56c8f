#include <tapegrad/parallel/data_parallel.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <string>

#include <fmt/core.h>

namespace tg::parallel {
namespace {

// FNV-1a, 64 bits.
struct Hash {
  std::uint64_t h = 1469598103934665603ull;
  void add(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  void add(const std::string& s) { add(s.data(), s.size() + 1); }
  void add(std::uint64_t v) { add(&v, sizeof v); }
};

class Timer {
 public:
  explicit Timer(double& total) : total_(total) {}
  ~Timer() { total_ += std::chrono::duration<double>(Clock::now() - t0_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  double& total_;
  Clock::time_point t0_ = Clock::now();
};

}  // namespace

Range share_of(std::size_t n, int rank, int size) {
  if (size < 1 || rank < 0 || rank >= size)
    throw Error(fmt::format("share_of: rank {} of {} processes", rank, size));
  const std::size_t r = std::size_t(rank), s = std::size_t(size);
  const std::size_t base = n / s, extra = n % s;
  return {r * base + std::min(r, extra), base + (r < extra ? 1 : 0)};
}

template <class T>
DataParallel<T>::DataParallel(std::vector<NamedParameter<T>> params, Optimizer<T>* optimizer)
    : params_(std::move(params)), optimizer_(optimizer), rank_(parallel::rank()),
      size_(parallel::size()), weight_(1.0 / double(size_)) {
  if (size_ > 1) broadcast_state();
}

template <class T>
DataParallel<T>::DataParallel(train::Trainer<T>& trainer, std::vector<NamedParameter<T>> params,
                              Optimizer<T>& optimizer)
    : params_(std::move(params)), optimizer_(&optimizer), trainer_(&trainer),
      rank_(parallel::rank()), size_(parallel::size()), weight_(1.0 / double(size_)) {
  if (size_ == 1) return;
  wire(trainer);
  broadcast_state();
}

template <class T>
void DataParallel<T>::wire(train::Trainer<T>& trainer) {
  if (!is_root()) {
    train::Options& o = trainer.options();
    o.log = nullptr;
    o.progress = false;
    o.save.clear();
    o.metrics.clear();
    o.profile_csv.clear();
  }
  trainer.on_gradients = [this, then = std::move(trainer.on_gradients)](const train::Batch& b) {
    average_gradients();
    if (then) then(b);
  };
}

template <class T>
std::vector<std::size_t> DataParallel<T>::shard(const std::vector<std::size_t>& global) {
  if (size_ == 1) return global;
  const Range r = share_of(global.size(), rank_, size_);
  set_share(r.count, global.size());
  if (r.count == 0) return global.empty() ? global : std::vector<std::size_t>{global.front()};
  return {global.begin() + std::ptrdiff_t(r.begin), global.begin() + std::ptrdiff_t(r.begin + r.count)};
}

template <class T>
void DataParallel<T>::set_share(std::size_t local, std::size_t global) {
  if (local > global) throw Error(fmt::format("DataParallel: a share of {} of {} items", local, global));
  weight_ = global ? double(local) / double(global) : 0.0;
}

template <class T>
Var<T> DataParallel<T>::loss(const Var<T>& local) {
  if (size_ == 1) return local;
  const double mine = double(local.item());
  double sum = mine * weight_;
  {
    Timer t(stats_.seconds);
    allreduce_sum(&sum, 1);
  }
  ++stats_.allreduces;
  return add_scalar(local, T(sum - mine));
}

template <class T>
void DataParallel<T>::average_gradients() {
  if (size_ == 1) return;
  std::size_t n = params_.size();  // one flag per parameter: has it a gradient here?
  for (const auto& p : params_) n += p.var.size();
  buffer_.resize(n);
  T* out = buffer_.data();
  T* flags = out + (n - params_.size());
  const T w = T(weight_);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Var<T>& v = params_[i].var;
    const std::size_t m = v.size();
    flags[i] = v.has_grad() ? T(1) : T(0);
    if (v.has_grad()) {
      const T* g = v.grad().data();
      for (std::size_t k = 0; k < m; ++k) out[k] = g[k] * w;
    } else {
      std::fill(out, out + m, T(0));
    }
    out += m;
  }
  {
    Timer t(stats_.seconds);
    allreduce_sum(buffer_.data(), n);
  }
  ++stats_.allreduces;
  ++stats_.exchanges;
  stats_.elements = n;
  stats_.bytes = n * sizeof(T);
  const T* in = buffer_.data();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::size_t m = params_[i].var.size();
    if (flags[i] > T(0)) std::copy(in, in + m, params_[i].var.node()->zeroed_grad().data());
    in += m;
  }
}

template <class T>
void DataParallel<T>::check_agreement() const {
  Hash h;
  for (const auto& p : params_) {
    h.add(p.name);
    h.add(std::uint64_t(p.var.size()));
  }
  if (optimizer_)
    for (const auto& [name, tensor] : optimizer_->state()) {
      h.add(name);
      h.add(std::uint64_t(tensor->size()));
    }
  if (trainer_) h.add(std::uint64_t(trainer_->step()));
  const std::vector<std::uint64_t> all = allgather(h.h);
  for (std::size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0])
      throw Error(fmt::format("DataParallel: rank {} has another model, optimizer state or step than "
                              "rank 0 (another checkpoint or other flags?)",
                              r));
}

template <class T>
void DataParallel<T>::broadcast_state() {
  if (size_ == 1) return;
  check_agreement();
  std::vector<Tensor<T>*> tensors;
  for (auto& p : params_) tensors.push_back(&p.var.value());
  if (optimizer_)
    for (auto& named : optimizer_->state()) tensors.push_back(named.second);
  std::size_t n = 0;
  for (const Tensor<T>* t : tensors) n += t->size();
  buffer_.resize(n);
  T* at = buffer_.data();
  for (const Tensor<T>* t : tensors) at = std::copy(t->data(), t->data() + t->size(), at);
  broadcast(buffer_.data(), n);
  const T* from = buffer_.data();
  for (Tensor<T>* t : tensors) {
    std::copy(from, from + t->size(), t->data());
    from += t->size();
  }
  if (trainer_) {
    std::ostringstream out;
    out << trainer_->rng();
    std::string text = out.str();
    broadcast(text);
    std::istringstream in(text);
    in >> trainer_->rng();
  }
}

template <class T>
std::string DataParallel<T>::summary() const {
  if (size_ == 1) return "";
  return fmt::format(
      "{} processes: {:.2f} MB of gradients ({} values) summed at each of {} steps; {:.2f} s in "
      "MPI_Allreduce (waiting for other ranks included)",
      size_, double(stats_.bytes) / 1e6, stats_.elements, stats_.exchanges, stats_.seconds);
}

template <class T>
std::uint64_t DataParallel<T>::fingerprint() const {
  Hash h;
  for (const auto& p : params_) h.add(p.var.value().data(), p.var.size() * sizeof(T));
  return h.h;
}

template <class T>
bool DataParallel<T>::in_sync() const {
  const std::vector<std::uint64_t> all = allgather(fingerprint());
  return std::all_of(all.begin(), all.end(), [&](std::uint64_t v) { return v == all[0]; });
}

template class DataParallel<float>;
template class DataParallel<double>;

}  // namespace tg::parallel
