// mnist_rnn: the MNIST class assignment (docs/protocols.md section 3): parse,
// load the data, train and evaluate (apps/mnist_rnn/mnist_app.cpp), report.
#include <fmt/core.h>

#include "apps/mnist_rnn/mnist_app.hpp"
#include <tapegrad/backend/blas.hpp>
#include <tapegrad/parallel/comm.hpp>

int main(int argc, char** argv) {
  using namespace tg;
  parallel::Environment mpi(argc, argv);  // one of N processes under mpirun (docs/distributed.md)
  mpi.mute_others();
  return mpi.finish(app::run_main("mnist_rnn", [&] {
    app::Frame frame("mnist_rnn",
                     "Trains a recurrent network to classify MNIST digits, reading each image as "
                     "a sequence of its 28 rows (docs/protocols.md section 3), and reports the "
                     "test accuracy every --eval-every steps.",
                     "  mnist_rnn                         the protocol: rnn, 4000 steps\n"
                     "  mnist_rnn --cell lstm --save lstm.st --metrics lstm.csv\n"
                     "  mnist_rnn --load lstm.st --eval-only      evaluate a checkpoint\n"
                     "  mnist_rnn --load lstm.st --steps 6000     train on to step 6000");
    mnist::Settings settings;
    mnist::add_flags(frame, settings);
    frame.parse(argc, argv);
    const data::Mnist mnist =
        mpi.root_first([&] { return data::fetch_mnist(frame.flags().data, settings.own_data); });
    fmt::print(frame.out(), "MNIST: {} train, {} test images; BLAS threads {}, float products on {}\n",
               mnist.train.size(), mnist.test.size(), frame.flags().threads,
               blas::float_gemm_backend());
    const mnist::RunResult result = mnist::run(settings, frame, mnist, frame.out());
    if (result.last_step > result.first_step)
      fmt::print(frame.out(), "{}\n", mnist::result_line(settings, frame, result));
    frame.finish();
    return 0;
  }));
}
