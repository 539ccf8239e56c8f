// adding_problem: the adding problem from the command line (the example of
// docs/writing_a_model.md). The work is in adding_app.cpp; this file maps
// errors to exit codes.
#include <cstdio>
#include <exception>

#include <fmt/core.h>

#include "apps/adding_problem/adding_app.hpp"
#include "apps/common/cli.hpp"
#include "apps/common/report.hpp"

int main(int argc, char** argv) {
  using namespace tg;
  try {
    const adding::Config config = adding::parse_args(argc, argv);
    app::set_threads(config.threads);
    adding::run(config, stdout);
    return 0;
  } catch (const adding::UsageError& e) {
    fmt::print(stderr, "adding_problem: {} (try --help)\n", e.what());
    return app::kExitUsage;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "adding_problem: error: {}\n", e.what());
    return app::kExitFailure;
  }
}
