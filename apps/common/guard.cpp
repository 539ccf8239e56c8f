#include "apps/common/guard.hpp"

#include <cstdio>
#include <exception>

#include <fmt/core.h>

#include "apps/common/cli.hpp"

namespace tg::app {

int run_main(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}: {} (try --help)\n", program, e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: error: {}\n", program, e.what());
    return kExitFailure;
  }
}

}  // namespace tg::app
