// The processes of a data-parallel run and what they say to each other. With
// TAPEGRAD_MPI (the default when an MPI is installed) this is MPI underneath
// (comm_mpi.cpp); without it, one process alone (comm_serial.cpp): rank 0 of
// 1, every collective a no-op. Code written against this header therefore
// runs unchanged in both builds and under `mpirun -np N` or without it.
//
//   int main(int argc, char** argv) {
//     tg::parallel::Environment mpi(argc, argv);  // MPI_Init; MPI_Finalize at exit
//     mpi.mute_others();                          // ranks > 0: stdout to /dev/null
//     return mpi.finish(train_it());              // a failing rank ends them all
//   }
//
// Every collective below must be called by every process, in the same order
// (MPI's rule); each works on MPI_COMM_WORLD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tg::parallel {

// True when built with MPI (TAPEGRAD_MPI).
bool built_with_mpi();

// This process's rank and the number of processes: 0 and 1 without MPI,
// before MPI_Init and after MPI_Finalize.
int rank();
int size();
inline bool is_root() { return rank() == 0; }

// Waits for every process.
void barrier();

// In place: data[i] becomes the sum over processes (float or double).
template <class T>
void allreduce_sum(T* data, std::size_t n);

// In place: data[i] becomes the bitwise or over processes (flags, row masks).
void allreduce_or(std::uint8_t* data, std::size_t n);

// In place: rank `root`'s data on every process (float or double). Every
// process must pass the same n.
template <class T>
void broadcast(T* data, std::size_t n, int root = 0);

// Rank `root`'s string on every process.
void broadcast(std::string& text, int root = 0);

// Every process's value, in rank order.
std::vector<std::uint64_t> allgather(std::uint64_t value);

// True on every process when `ok` is true on every process.
bool all(bool ok);

class Environment {
 public:
  // MPI_Init_thread (FUNNELED: only the main thread calls MPI; BLAS threads
  // never do) when a launcher (mpirun, mpiexec, srun) started this process
  // and MPI is not initialised yet; otherwise nothing: a process started
  // alone runs alone, at no cost. Built without MPI but started by a
  // launcher with more than one process: says so on stderr and exits 1
  // (each process would otherwise train alone and write the same files).
  Environment(int& argc, char**& argv);
  // MPI_Finalize, if this object initialised MPI. Leaving by an exception
  // with other processes running aborts them all (see finish()).
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  int rank() const { return parallel::rank(); }
  int size() const { return parallel::size(); }
  bool is_root() const { return rank() == 0; }

  // Sends the standard output of every rank but 0 to /dev/null: one log per
  // run. Standard error stays, so each rank's errors are seen.
  void mute_others() const;

  // The exit code for main. A non-zero code with other processes running
  // calls MPI_Abort(code) and does not return: a rank that stops alone
  // leaves the others waiting in the next collective forever, so one
  // failure ends the run (mpirun then exits with this code).
  int finish(int code) const;

  // Runs `f` on rank 0 first, then on the others (say, a download into a
  // shared cache that the others then only read); returns its result.
  template <class F>
  auto root_first(F&& f) const -> decltype(f()) {
    if (!is_root()) barrier();
    auto result = f();  // if it throws on rank 0, finish() aborts the waiting ranks
    if (is_root()) barrier();
    return result;
  }

 private:
  bool initialised_here_ = false;
};

}  // namespace tg::parallel
