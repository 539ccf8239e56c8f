// mnist_rnn: the MNIST class assignment (docs/protocols.md section 3) from the
// command line. The work is in mnist_app.cpp; this file loads the data, and
// apps/common/guard.hpp maps errors to exit codes.
#include <cstdio>

#include <fmt/core.h>

#include "apps/common/guard.hpp"
#include "apps/common/report.hpp"
#include "apps/mnist_rnn/mnist_app.hpp"
#include "backend/blas.hpp"

int main(int argc, char** argv) {
  using namespace tg;
  return app::run_main("mnist_rnn", [&] {
    const mnist::Config config = mnist::parse_args(argc, argv);
    app::set_threads(config.threads);
    // A bad checkpoint fails now, before the data is read (or fetched).
    if (!config.load.empty()) mnist::config_from_checkpoint(config.load, config);
    const data::Mnist mnist = data::fetch_mnist(config.data);
    fmt::print("MNIST: {} train, {} test images; BLAS threads {}, float products on {}\n",
               mnist.train.size(), mnist.test.size(), config.threads, blas::float_gemm_backend());
    const mnist::RunResult result = mnist::run(config, mnist, stdout);
    if (result.last_step > result.first_step)
      fmt::print("{}\n", mnist::result_line(result, mnist::peak_mib()));
    std::fflush(stdout);
    return 0;
  });
}
