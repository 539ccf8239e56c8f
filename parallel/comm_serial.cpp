// parallel/comm.hpp without MPI (TAPEGRAD_MPI off): one process, rank 0 of 1,
// every collective a no-op.
#include <tapegrad/parallel/comm.hpp>

#include <cstdio>
#include <cstdlib>

#include <tapegrad/parallel/launcher.hpp>

namespace tg::parallel {

bool built_with_mpi() { return false; }
int rank() { return 0; }
int size() { return 1; }
void barrier() {}

template <class T>
void allreduce_sum(T*, std::size_t) {}

void allreduce_or(std::uint8_t*, std::size_t) {}

template <class T>
void broadcast(T*, std::size_t, int) {}

void broadcast(std::string&, int) {}
std::vector<std::uint64_t> allgather(std::uint64_t value) { return {value}; }
bool all(bool ok) { return ok; }

Environment::Environment(int&, char**&) {
  if (const long n = detail::launched_processes(); n > 1) {
    std::fprintf(stderr,
                 "tapegrad: started as one of %ld processes, but built without MPI "
                 "(TAPEGRAD_MPI=OFF): each would train alone and write the same files. "
                 "Install libopenmpi-dev and rebuild, or run one process.\n",
                 n);
    std::exit(1);
  }
}

Environment::~Environment() = default;
void Environment::mute_others() const {}
int Environment::finish(int code) const { return code; }

template void allreduce_sum<float>(float*, std::size_t);
template void allreduce_sum<double>(double*, std::size_t);
template void broadcast<float>(float*, std::size_t, int);
template void broadcast<double>(double*, std::size_t, int);

}  // namespace tg::parallel
