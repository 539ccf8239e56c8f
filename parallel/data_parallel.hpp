// Data-parallel training: the same model in N processes, one result
// (docs/distributed.md). Every process holds the whole model and walks the
// same global batches; each computes the loss and gradient of its own
// contiguous share of the global batch; one MPI_Allreduce over a flat buffer
// of all gradients, each share weighted by its size, leaves on every process
// the gradient of the mean loss over the whole global batch -- the gradient
// one process computes -- so every process takes the same optimizer step and
// the parameters stay identical without being sent again.
//
//   parallel::Environment mpi(argc, argv);             // in main (comm.hpp)
//   ...
//   train::Trainer<float> trainer(tape, model.named_parameters(), adam, options, seed);
//   if (!load.empty()) trainer.resume(load);
//   parallel::DataParallel<float> ddp(trainer, model.named_parameters(), adam);
//   trainer.fit(
//       [&](const train::Batch& b) {
//         const auto items = ddp.shard(sampler.at(b.epoch, b.index));  // this rank's share
//         return ddp.loss(mean_loss_over(items));
//       },
//       [&]() -> train::Metrics { return ddp.is_root() ? evaluate() : train::Metrics{}; });
//
// With one process (no mpirun, or a build without MPI) every call is the
// identity and the Trainer is left as it was: the single-process run is
// bit for bit what it was without this class.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tapegrad/autograd/named_parameter.hpp>
#include <tapegrad/optim/optimizer.hpp>
#include <tapegrad/parallel/comm.hpp>
#include <tapegrad/train/trainer.hpp>

namespace tg::parallel {

// Rank `rank`'s contiguous part [begin, begin + count) of n items split over
// `size` ranks: the first n % size ranks take one item more than the others.
struct Range {
  std::size_t begin = 0, count = 0;
};
Range share_of(std::size_t n, int rank, int size);

// What the gradient exchange cost so far on this process.
struct CommStats {
  std::size_t allreduces = 0;   // gradient exchanges, row masks and loss sums
  std::size_t exchanges = 0;    // gradient exchanges: one per step
  std::size_t elements = 0;     // last step: values of the gradient buffer (sent rows + 2 flags a parameter)
  std::size_t bytes = 0;        // last step: bytes sent and received, gradient buffer and row masks
  std::size_t mask_bytes = 0;   // last step: of those, the row masks
  std::size_t rows_sent = 0;    // last step: rows of row-sparse tables sent (their union over ranks)
  std::size_t rows_total = 0;   // last step: rows of those tables
  std::size_t total_bytes = 0;  // bytes over all steps
  double seconds = 0;           // wall time inside MPI_Allreduce, waiting for other ranks included
};

template <class T>
class DataParallel {
 public:
  // Over every process of the run. Broadcasts the parameters, the
  // optimizer's state and the Trainer's generator from rank 0 -- construct
  // it after trainer.resume() -- averages the gradients in
  // trainer.on_gradients (before a hook already set there, which then sees
  // the average), and silences every rank but 0: no log, progress line,
  // checkpoint, metrics or profile CSV. The Trainer must outlive fit() of
  // this object. With one process it changes nothing.
  DataParallel(train::Trainer<T>& trainer, std::vector<NamedParameter<T>> params,
               Optimizer<T>& optimizer);
  // For a loop of one's own: call average_gradients() between backward and
  // the optimizer step. Broadcasts the parameters (and the optimizer's
  // state, when given) from rank 0.
  explicit DataParallel(std::vector<NamedParameter<T>> params, Optimizer<T>* optimizer = nullptr);
  DataParallel(const DataParallel&) = delete;  // the Trainer's hook points at this object
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  // This rank's contiguous share of the global batch `global` (share_of),
  // remembered as this step's weight: local / global items. A rank whose
  // share is empty (a global batch smaller than the ranks) gets the batch's
  // first item with weight 0, so every rank runs the same forward and
  // backward and its gradient counts for nothing.
  std::vector<std::size_t> shard(const std::vector<std::size_t>& global);
  // The weight for shares made otherwise: this rank's loss is the mean over
  // `local` of `global` items. Without shard() or this call: 1 / size().
  void set_share(std::size_t local, std::size_t global);

  // `local`, the mean loss over this rank's share, as a value whose
  // gradient is local's and whose value is the mean over the whole global
  // batch (the weighted sum over ranks: one MPI_Allreduce of one double):
  // the Trainer then logs, checks for NaN and divergence, and stops on the
  // same loss on every rank.
  Var<T> loss(const Var<T>& local);

  // Replaces every gradient by the weighted sum over ranks (one
  // MPI_Allreduce). A parameter without a gradient on some rank counts as
  // zero there; one without a gradient on every rank stays without.
  // Row-sparse tables (an embedding, whose gradient came only through
  // index_select on every rank at the previous exchange) go as their rows
  // reached on some rank: a small MPI_Allreduce (bitwise or) of their row
  // masks first, then only those rows in the one buffer. The other rows are
  // zero on every rank and stay so: the result is the dense exchange's, bit
  // for bit.
  void average_gradients();

  // Whether parameters may go row-sparse (default: yes); false sends them
  // dense. Call alike on every rank.
  void set_row_sparse(bool on);
  void set_row_sparse(const std::string& name, bool on);  // throws for an unknown name

  // Rank 0's parameters, optimizer state and Trainer generator on every
  // rank. Throws on every rank when the ranks disagree on the model, the
  // optimizer's state or the Trainer's step.
  void broadcast_state();

  // A hash of the parameters' bytes on this rank; in_sync(): equal on every
  // rank (collective).
  std::uint64_t fingerprint() const;
  bool in_sync() const;

  const CommStats& stats() const { return stats_; }
  // stats() as a line for a log: "2 processes: 1.84 MB of gradients a step
  // (last 1.50 MB: 371085 values, embedding rows 1870 of 20002 and their
  // masks 20.0 KB) summed at each of 391 steps; 0.78 s in MPI_Allreduce
  // (waiting for other ranks included)"; "" with one process.
  std::string summary() const;

 private:
  void wire(train::Trainer<T>& trainer);
  void check_agreement() const;
  void plan_rows();

  // How a parameter's gradient goes in this step's buffer.
  enum class Send : char { dense, rows, none };

  std::vector<NamedParameter<T>> params_;
  Optimizer<T>* optimizer_ = nullptr;
  train::Trainer<T>* trainer_ = nullptr;
  int rank_ = 0, size_ = 1;
  double weight_ = 1;
  std::vector<T> buffer_;
  std::vector<char> allowed_;    // per parameter: set_row_sparse
  std::vector<char> candidate_;  // per parameter: row-sparse on every rank at the last exchange
  std::vector<Send> send_;       // this step's plan
  std::vector<std::vector<std::size_t>> rows_;  // for Send::rows: the union of the rows reached
  std::vector<std::uint8_t> masks_;
  CommStats stats_;
};

extern template class DataParallel<float>;
extern template class DataParallel<double>;

}  // namespace tg::parallel
