// An op profiler for the tape, in the spirit of torch.autograd.profiler: per
// op name, how many times it ran, its forward and backward time, and the
// bytes of the results it made. Off by default; when off, each op pays one
// test of a flag. On by profiler::enable(true), by TAPEGRAD_PROFILE=1 in the
// environment (read when the first tape is made), or by an app's --profile.
//
//   tg::profiler::enable(true);
//   ... train ...
//   std::fputs(tg::profiler::table().c_str(), stdout);   // sorted by total time
//
// Forward time runs from the op's start (tape_of) to its result; an op built
// from other ops counts only its own part. Backward time is the record's
// closure. One table per process; training is single-threaded. Each tape
// follows the switch: while on, it holds an observer that times its ops
// (diagnostics/op_timer.hpp); while off, it pays one test per op. Switch
// it while no tape runs on another thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace tg::profiler {

struct OpStats {
  std::size_t calls = 0;        // forward calls
  std::size_t backward_calls = 0;
  double forward_seconds = 0, backward_seconds = 0;
  std::size_t bytes = 0;        // bytes of the results made
};

namespace detail {
extern bool on;
using Clock = std::chrono::steady_clock;
void add_forward(const char* op, Clock::duration d, std::size_t bytes, bool first_result);
void add_backward(const char* op, Clock::duration d);
// Every live tape registers here, to be told when enable() switches.
void follow(void* tape, void (*switched)(void* tape, bool on));
void unfollow(void* tape);
}  // namespace detail

inline bool enabled() { return detail::on; }
void enable(bool on);
// Turns the profiler on when TAPEGRAD_PROFILE is set to a non-empty value
// other than 0 (called by the first Tape).
void enable_from_environment();
void reset();

// The stats of one op ("matmul"), zero if it never ran.
OpStats stats(const std::string& op);
// A table sorted by forward + backward time, with a total line.
std::string table();
// The same as CSV: op,calls,forward_ms,backward_ms,total_ms,mbytes.
std::string csv();

}  // namespace tg::profiler
