// The main() of every app, written once: one of N processes under mpirun
// (the others muted), the frame with the app's flags, parse (--help exits
// 0), the app's run, the report (--report), and errors mapped to exit codes:
//
//   0 success   1 failure while running (data, checkpoint, non-finite loss)
//   2 usage (a flag out of range, a checkpoint of other settings)
//
//   int main(int argc, char** argv) {
//     tg::mnist::Settings settings;
//     return tg::app::main(argc, argv, {"mnist_rnn", "Trains ...", "  mnist_rnn --cell lstm\n"},
//                          [&](tg::app::Frame& frame) { tg::mnist::add_flags(frame, settings); },
//                          [&](tg::app::Frame& frame, const tg::parallel::Environment& mpi) {...});
//   }
#pragma once

#include <functional>
#include <string>

#include "apps/common/frame.hpp"
#include <tapegrad/parallel/comm.hpp>

namespace tg::app {

struct Program {
  std::string name;      // the executable's
  std::string summary;   // the help's first paragraph
  std::string examples;  // lines of the help's examples section
};

// Leave main with this code (--help printed).
struct ExitNow {
  int code;
};

// add_flags(frame) registers the flags; run(frame, mpi) runs the parsed
// command. Returns main's exit code (every process's, under mpirun).
int main(int argc, char** argv, const Program& program, const std::function<void(Frame&)>& add_flags,
         const std::function<void(Frame&, const parallel::Environment&)>& run);

// Runs `body` and returns its exit code, or the code of what it threw, with
// the message on stderr as "program: error: ...".
int run_main(const char* program, const std::function<int()>& body);

// Peak resident memory of this process so far, in MiB (for RESULT lines).
double peak_mib();

}  // namespace tg::app
