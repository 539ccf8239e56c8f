// slot_filling: train a recurrent slot tagger (built-in ticket corpus or an
// ATIS-layout folder), score it with conlleval, tag typed sentences: parse,
// load the data, train or load (apps/slot_filling/slot_run.cpp), report.
#include <iostream>

#include "apps/common/main.hpp"
#include "apps/slot_filling/slot_app.hpp"
#include <tapegrad/datasets/slots/ticket_corpus.hpp>

int main(int argc, char** argv) {
  using namespace tg;
  slotapp::Settings settings;
  const app::Program program{
      "slot_filling",
      "Slot filling with a recurrent tagger (the lecture's ticket-booking task): every word of a "
      "sentence gets a BIO slot tag, e.g. in \"I would like to arrive Taipei on November 2nd\" "
      "Taipei is the destination and November 2nd the time of arrival. Embedding -> (bi)LSTM/GRU/RNN "
      "over the masked batch -> a linear layer per token; cross-entropy over tags, padding weighted 0; "
      "Adam; the weights of the best valid F1 are kept. Scores: conlleval chunk precision / recall / F1 "
      "and token accuracy on the test split. Defaults that depend on the data read 'A with --data, B on "
      "the built-in corpus' (the --data ones are tuned on ATIS).",
      "  slot_filling                      train on the built-in corpus, tag the\n"
      "                                    lecture's sentences\n"
      "  slot_filling --data atis --save atis.st --metrics atis.csv\n"
      "  slot_filling --load atis.st --tag \"show me flights from boston to denver\"\n"
      "  slot_filling --load atis.st --tag - < sentences.txt   (a sentence a line)\n"
      "  slot_filling --load atis.st --data atis --eval-only   (score the test split)\n"
      "  slot_filling --load atis.st --data atis --epochs 40   (train on to epoch 40)\n\n"
      "--save PATH writes PATH (weights, Adam, settings, position, the best\n"
      "weights so far) at every evaluation, and PATH.vocab and PATH.tags beside it."};
  return app::main(argc, argv, program, [&](app::Frame& frame) { slotapp::add_flags(frame, settings); },
                   [&](app::Frame& frame, const parallel::Environment&) {
                     slotapp::resolve_defaults(frame, settings);
                     slots::SlotData data;
                     if (slotapp::needs_data(frame, settings))
                       data = frame.flags().data.empty() ? slots::make_ticket_corpus()
                                                         : slots::read_folder(frame.flags().data, settings.max_length);
                     slotapp::check_memory(settings, frame, data);
                     slotapp::run(settings, frame, data, std::cin, frame.out());
                   });
}
