// parallel/comm.hpp over MPI (MPI_COMM_WORLD).
#include <tapegrad/parallel/comm.hpp>

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <limits>

#include <tapegrad/parallel/launcher.hpp>

namespace tg::parallel {
namespace {

bool running() {
  int init = 0, done = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&done);
  return init && !done;
}

template <class T>
MPI_Datatype type_of();
template <>
MPI_Datatype type_of<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype type_of<double>() { return MPI_DOUBLE; }
template <>
MPI_Datatype type_of<char>() { return MPI_CHAR; }

// MPI counts are int: larger buffers go in pieces of at most 2^30 elements.
constexpr std::size_t kPiece = std::size_t(1) << 30;

template <class F>
void in_pieces(std::size_t n, F&& f) {
  for (std::size_t at = 0; at < n; at += kPiece) f(at, int(std::min(kPiece, n - at)));
}

template <class T>
void bcast(T* data, std::size_t n, int root) {
  in_pieces(n, [&](std::size_t at, int count) {
    MPI_Bcast(data + at, count, type_of<T>(), root, MPI_COMM_WORLD);
  });
}

}  // namespace

bool built_with_mpi() { return true; }

int rank() {
  if (!running()) return 0;
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int size() {
  if (!running()) return 1;
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

void barrier() {
  if (size() > 1) MPI_Barrier(MPI_COMM_WORLD);
}

template <class T>
void allreduce_sum(T* data, std::size_t n) {
  if (size() == 1) return;
  in_pieces(n, [&](std::size_t at, int count) {
    MPI_Allreduce(MPI_IN_PLACE, data + at, count, type_of<T>(), MPI_SUM, MPI_COMM_WORLD);
  });
}

void allreduce_or(std::uint8_t* data, std::size_t n) {
  if (size() == 1) return;
  in_pieces(n, [&](std::size_t at, int count) {
    MPI_Allreduce(MPI_IN_PLACE, data + at, count, MPI_UNSIGNED_CHAR, MPI_BOR, MPI_COMM_WORLD);
  });
}

template <class T>
void broadcast(T* data, std::size_t n, int root) {
  if (size() > 1) bcast(data, n, root);
}

void broadcast(std::string& text, int root) {
  if (size() == 1) return;
  unsigned long long n = text.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD);
  text.resize(std::size_t(n));
  bcast(text.data(), text.size(), root);
}

std::vector<std::uint64_t> allgather(std::uint64_t value) {
  std::vector<std::uint64_t> all(std::size_t(size()), value);
  if (all.size() > 1)
    MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  return all;
}

bool all(bool ok) {
  if (size() == 1) return ok;
  int in = ok ? 1 : 0, out = 0;
  MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return out != 0;
}

Environment::Environment(int& argc, char**& argv) {
  // Without a launcher this is one process: no MPI_Init, which as a
  // "singleton" would start Open MPI's daemon and cost a third of a second.
  if (running() || detail::launched_processes() == 0) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  initialised_here_ = true;
}

Environment::~Environment() {
  if (!initialised_here_ || !running()) return;
  if (std::uncaught_exceptions() > 0 && size() > 1) {
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
}

void Environment::mute_others() const {
  if (rank() != 0 && !std::freopen("/dev/null", "w", stdout))
    std::fputs("tapegrad: cannot send this rank's output to /dev/null\n", stderr);
}

int Environment::finish(int code) const {
  if (code != 0 && size() > 1) {
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }
  return code;
}

template void allreduce_sum<float>(float*, std::size_t);
template void allreduce_sum<double>(double*, std::size_t);
template void broadcast<float>(float*, std::size_t, int);
template void broadcast<double>(double*, std::size_t, int);

}  // namespace tg::parallel
