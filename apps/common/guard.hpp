// What every app's main() does with errors, in one place: a usage error
// (an option out of range) exits 2 with a hint to --help; any other failure
// flushes what stdout has so far, names itself and exits 1.
#pragma once

#include <functional>

#include "backend/tensor.hpp"

namespace tg::app {

// A command line that parses but makes no sense (unknown cell, batch 0...).
struct UsageError : Error {
  using Error::Error;
};

// Runs `body` and returns its exit code, or the code of what it threw;
// messages start with `program`.
int run_main(const char* program, const std::function<int()>& body);

}  // namespace tg::app
