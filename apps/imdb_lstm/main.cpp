// imdb_lstm: the IMDB homework (docs/protocols.md section 4): parse, load the
// data, train and evaluate (apps/imdb_lstm/imdb_run.cpp), report; or, with
// --load and --predict, classify new text.
#include <fmt/core.h>

#include "apps/common/main.hpp"
#include "apps/imdb_lstm/imdb_app.hpp"
#include "apps/imdb_lstm/imdb_report.hpp"
#include <tapegrad/backend/blas.hpp>

int main(int argc, char** argv) {
  using namespace tg;
  imdb::Settings settings;
  const app::Program program{
      "imdb_lstm",
      "IMDB sentiment with an LSTM (the homework, docs/protocols.md section 4): "
      "Embedding -> LSTM -> Linear -> binary cross-entropy; Adam, gradient "
      "clipping. By default the recipe of docs/imdb_lstm.md: a masked "
      "bidirectional LSTM whose outputs are averaged over each review, dropout, "
      "a cosine schedule, the epoch chosen on a tenth of the training split; "
      "--protocol: the homework's settings exactly (the final state of one "
      "direction over the padded review). Prints the first training review, "
      "then per epoch the train loss, the accuracies and the epoch's time.",
      "  imdb_lstm                                the recipe, 5 epochs\n"
      "  imdb_lstm --protocol                     the homework's protocol\n"
      "  imdb_lstm --layers 2 --save l2.st --metrics l2.csv\n"
      "  imdb_lstm --load l2.st --epochs 8        train on to epoch 8\n"
      "  imdb_lstm --load l2.st --eval-only       evaluate a checkpoint\n"
      "  imdb_lstm --load l2.st --predict \"a wonderful, moving film\"\n"
      "  imdb_lstm --steps 50 --eval none          a quick timing"};
  return app::main(argc, argv, program, [&](app::Frame& frame) { imdb::add_flags(frame, settings); },
                   [&](app::Frame& frame, const parallel::Environment& mpi) {
                     imdb::resolve_checkpoint_settings(frame);
                     imdb::check_memory(settings, frame);
                     if (!settings.predict.empty()) return imdb::predict_only(settings, frame, frame.out());
                     // Rank 0 fetches into the cache first, if need be; then every rank reads it at once.
                     const std::string reviews =
                         mpi.root_first([&] { return imdb::reviews_file(frame.flags().data).string(); });
                     const data::Imdb d = imdb::load_data(reviews, settings);
                     imdb::resolve_valid(frame, d.train.size());
                     imdb::describe_data(d, settings, frame.out());
                     fmt::print(frame.out(), "BLAS threads {}, float products on {}\n", frame.flags().threads,
                                blas::float_gemm_backend());
                     const imdb::RunResult result = imdb::run(settings, frame, d, frame.out());
                     if (!result.steps()) return;
                     if (!frame.flags().save.empty())
                       fmt::print(frame.out(), "saved {} (vocabulary: {})\n", frame.flags().save,
                                  imdb::vocab_path(frame.flags().save));
                     fmt::print(frame.out(), "{}\n", imdb::result_line(settings, frame, result));
                   });
}
