// Which rows of a table's gradient index_select's backward wrote into. An
// embedding's gradient is as large as its table, but a batch touches few of
// its rows: data-parallel training sends only those (docs/distributed.md).
// The gradient itself stays the dense table; this is bookkeeping beside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tg {

struct GradRows {
  std::vector<std::uint8_t> mask;  // per row: 1 when it received gradient
  std::vector<std::size_t> list;   // the rows set in mask, in the order first reached
  bool dense = false;              // another op wrote into the gradient too: rows say nothing
  // The gradient buffer was zeroed when these rows began and, while not
  // dense, holds nothing outside them: the next zeroing may zero just them.
  bool zero_elsewhere = false;

  // No row reached, for a table of `rows` rows. Costs the rows reached, not the table.
  void reset(std::size_t rows) {
    for (std::size_t r : list) mask[r] = 0;
    list.clear();
    mask.resize(rows, 0);
    dense = false;
  }
  void add(std::size_t row) {
    if (mask[row]) return;
    mask[row] = 1;
    list.push_back(row);
  }
};

}  // namespace tg
