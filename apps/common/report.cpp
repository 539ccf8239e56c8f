#include "apps/common/report.hpp"

#include "backend/blas.hpp"
#include "backend/tensor.hpp"

namespace tg::app {

void set_threads(int n) {
  if (n < 1) throw Error("--threads must be at least 1, got " + std::to_string(n));
  blas::set_num_threads(n);
}

}  // namespace tg::app
