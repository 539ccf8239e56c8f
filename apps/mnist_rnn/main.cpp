// mnist_rnn: the MNIST class assignment (docs/protocols.md section 3): parse,
// load the data, train and evaluate (apps/mnist_rnn/mnist_app.cpp), report.
#include <fmt/core.h>

#include "apps/common/main.hpp"
#include "apps/mnist_rnn/mnist_app.hpp"
#include <tapegrad/backend/blas.hpp>

int main(int argc, char** argv) {
  using namespace tg;
  mnist::Settings settings;
  const app::Program program{
      "mnist_rnn",
      "Trains a recurrent network to classify MNIST digits, reading each image as a sequence of its 28 "
      "rows (docs/protocols.md section 3), and reports the test accuracy every --eval-every steps.",
      "  mnist_rnn                         the protocol: rnn, 4000 steps\n"
      "  mnist_rnn --cell lstm --save lstm.st --metrics lstm.csv\n"
      "  mnist_rnn --load lstm.st --eval-only      evaluate a checkpoint\n"
      "  mnist_rnn --load lstm.st --steps 6000     train on to step 6000"};
  return app::main(argc, argv, program, [&](app::Frame& frame) { mnist::add_flags(frame, settings); },
                   [&](app::Frame& frame, const parallel::Environment& mpi) {
                     mnist::check_memory(settings, frame);
                     const data::Mnist mnist = mpi.root_first(
                         [&] { return data::fetch_mnist(frame.flags().data, settings.own_data); });
                     fmt::print(frame.out(), "MNIST: {} train, {} test images; BLAS threads {}, float products on {}\n",
                                mnist.train.size(), mnist.test.size(), frame.flags().threads,
                                blas::float_gemm_backend());
                     const mnist::RunResult result = mnist::run(settings, frame, mnist, frame.out());
                     if (result.steps())
                       fmt::print(frame.out(), "{}\n", mnist::result_line(settings, frame, result));
                   });
}
