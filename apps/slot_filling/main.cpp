// slot_filling: train a recurrent slot tagger (built-in ticket corpus or an
// ATIS-layout folder), score it with conlleval, tag typed sentences.
#include <iostream>
#include <string>
#include <vector>

#include "apps/slot_filling/slot_app.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  return tg::slotapp::run(args, std::cin, std::cout, std::cerr);
}
