#include <tapegrad/parallel/data_parallel.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <string>

#include <fmt/core.h>

#include <tapegrad/autograd/ops/elementwise.hpp>

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

// Elements in a row of a table (its first axis).
template <class T>
std::size_t row_size(const Var<T>& v) {
  return v.shape()[0] ? v.size() / v.shape()[0] : 0;
}

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
      size_(parallel::size()), weight_(1.0 / double(size_)), allowed_(params_.size(), 1),
      candidate_(params_.size(), 0) {
  if (size_ > 1) broadcast_state();
}

template <class T>
DataParallel<T>::DataParallel(train::Trainer<T>& trainer, std::vector<NamedParameter<T>> params,
                              Optimizer<T>& optimizer)
    : params_(std::move(params)), optimizer_(&optimizer), trainer_(&trainer),
      rank_(parallel::rank()), size_(parallel::size()), weight_(1.0 / double(size_)),
      allowed_(params_.size(), 1), candidate_(params_.size(), 0) {
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
void DataParallel<T>::set_row_sparse(bool on) {
  std::fill(allowed_.begin(), allowed_.end(), char(on));
  if (!on) std::fill(candidate_.begin(), candidate_.end(), char(0));
}

template <class T>
void DataParallel<T>::set_row_sparse(const std::string& name, bool on) {
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) {
      allowed_[i] = char(on);
      candidate_[i] = char(candidate_[i] && on);
      return;
    }
  throw Error(fmt::format("DataParallel::set_row_sparse: no parameter named '{}'", name));
}

// Decides how each gradient goes in this step's buffer. The candidates
// (row-sparse on every rank at the last exchange) send one byte each --
// bit 0: a gradient here, bit 1: not row-sparse here -- and their row masks,
// or-ed over ranks in one message: every rank then knows the same plan.
template <class T>
void DataParallel<T>::plan_rows() {
  send_.assign(params_.size(), Send::dense);
  std::size_t n = 0;
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (candidate_[i]) n += 1 + params_[i].var.shape()[0];
  stats_.mask_bytes = n;
  if (n == 0) return;
  masks_.assign(n, 0);
  std::uint8_t* at = masks_.data();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!candidate_[i]) continue;
    const Var<T>& v = params_[i].var;
    const GradRows* rows = v.grad_rows();
    at[0] = v.has_grad() ? (rows ? 1 : 3) : 0;
    if (rows) std::copy(rows->mask.begin(), rows->mask.end(), at + 1);
    at += 1 + v.shape()[0];
  }
  {
    Timer t(stats_.seconds);
    allreduce_or(masks_.data(), n);
  }
  ++stats_.allreduces;
  at = masks_.data();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!candidate_[i]) continue;
    const std::size_t rows = params_[i].var.shape()[0];
    if (at[0] & 2) {
      send_[i] = Send::dense;
    } else if (at[0] & 1) {
      send_[i] = Send::rows;
      rows_[i].clear();
      for (std::size_t r = 0; r < rows; ++r)
        if (at[1 + r]) rows_[i].push_back(r);
    } else {
      send_[i] = Send::none;  // no gradient on any rank
    }
    at += 1 + rows;
  }
}

template <class T>
void DataParallel<T>::average_gradients() {
  if (size_ == 1) return;
  rows_.resize(params_.size());
  plan_rows();
  const std::size_t np = params_.size();
  // Two flags per parameter: has it a gradient here; is it not row-sparse here.
  std::size_t n = 2 * np;
  stats_.rows_sent = stats_.rows_total = 0;
  for (std::size_t i = 0; i < np; ++i) {
    const Var<T>& v = params_[i].var;
    if (send_[i] == Send::dense) n += v.size();
    if (send_[i] != Send::rows) continue;
    n += rows_[i].size() * row_size(v);
    stats_.rows_sent += rows_[i].size();
    stats_.rows_total += v.shape()[0];
  }
  buffer_.resize(n);
  T* out = buffer_.data();
  T* flags = out + (n - 2 * np);
  const T w = T(weight_);
  for (std::size_t i = 0; i < np; ++i) {
    const Var<T>& v = params_[i].var;
    flags[2 * i] = v.has_grad() ? T(1) : T(0);
    flags[2 * i + 1] = v.has_grad() && !v.grad_rows() ? T(1) : T(0);
    const T* g = v.has_grad() ? v.grad().data() : nullptr;
    if (send_[i] == Send::dense) {
      if (g) out = std::transform(g, g + v.size(), out, [w](T x) { return x * w; });
      else out = std::fill_n(out, v.size(), T(0));
    } else if (send_[i] == Send::rows) {
      const std::size_t row = row_size(v);
      for (std::size_t r : rows_[i]) {
        if (g) out = std::transform(g + r * row, g + (r + 1) * row, out, [w](T x) { return x * w; });
        else out = std::fill_n(out, row, T(0));
      }
    }
  }
  {
    Timer t(stats_.seconds);
    allreduce_sum(buffer_.data(), n);
  }
  ++stats_.allreduces;
  ++stats_.exchanges;
  stats_.elements = n;
  stats_.bytes = n * sizeof(T) + stats_.mask_bytes;
  stats_.total_bytes += stats_.bytes;
  const T* in = buffer_.data();
  for (std::size_t i = 0; i < np; ++i) {
    const Var<T>& v = params_[i].var;
    Node<T>& node = *v.node();
    const bool any = flags[2 * i] > T(0);
    if (send_[i] == Send::dense) {
      if (any) std::copy(in, in + node.value.size(), node.grad_sink().buffer.data());
      in += node.value.size();
    } else if (send_[i] == Send::rows) {
      // Rows outside the union are zero on every rank, here too (zeroed).
      const std::size_t row = row_size(v);
      T* g = node.grad_sink().zeroed();
      for (std::size_t r : rows_[i]) {
        std::copy_n(in, row, g + r * row);
        in += row;
      }
    }
    // Row-sparse again next step when it was on every rank (or had no gradient anywhere).
    candidate_[i] = char(allowed_[i] && flags[2 * i + 1] == T(0) && (any || candidate_[i]));
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
  const double mean = stats_.exchanges ? double(stats_.total_bytes) / double(stats_.exchanges) : 0.0;
  const std::string rows =
      stats_.rows_total ? fmt::format(", embedding rows {} of {} and their masks {:.1f} KB",
                                      stats_.rows_sent, stats_.rows_total, double(stats_.mask_bytes) / 1e3)
                        : "";
  return fmt::format(
      "{} processes: {:.2f} MB of gradients a step (last {:.2f} MB: {} values{}) summed at each of {} "
      "steps; {:.2f} s in MPI_Allreduce (waiting for other ranks included)",
      size_, mean / 1e6, double(stats_.bytes) / 1e6, stats_.elements, rows, stats_.exchanges,
      stats_.seconds);
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
