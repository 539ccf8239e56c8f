// adding_problem: the adding problem from the command line (the example of
// docs/writing_a_model.md). The work is in adding_app.cpp; apps/common/guard.hpp
// maps errors to exit codes.
#include <cstdio>

#include "apps/adding_problem/adding_app.hpp"
#include "apps/common/guard.hpp"
#include "apps/common/report.hpp"

int main(int argc, char** argv) {
  using namespace tg;
  return app::run_main("adding_problem", [&] {
    const adding::Config config = adding::parse_args(argc, argv);
    app::set_threads(config.threads);
    adding::run(config, stdout);
    return 0;
  });
}
