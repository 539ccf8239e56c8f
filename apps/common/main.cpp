#include "apps/common/main.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <new>

#include <fmt/core.h>

namespace tg::app {

double peak_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // Linux: KiB
}


int run_main(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const ExitNow& e) {
    return e.code;
  } catch (const UsageError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: error: {} (try --help)\n", program, e.what());
    return kExitUsage;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: error: out of memory (try a smaller model or batch)\n", program);
    return kExitFailure;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: error: {}\n", program, e.what());
    return kExitFailure;
  }
}

int main(int argc, char** argv, const Program& program, const std::function<void(Frame&)>& add_flags,
         const std::function<void(Frame&, const parallel::Environment&)>& run) {
  parallel::Environment mpi(argc, argv);  // one of N processes under mpirun (docs/distributed.md)
  mpi.mute_others();
  return mpi.finish(run_main(program.name.c_str(), [&] {
    Frame frame(program.name, program.summary, program.examples);
    add_flags(frame);
    frame.parse(argc, argv);
    run(frame, mpi);
    frame.finish();
    return 0;
  }));
}

}  // namespace tg::app
