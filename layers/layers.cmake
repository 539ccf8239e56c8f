add_library(tapegrad_layers STATIC
  init.cpp
  linear.cpp
  cells.cpp
  recurrent.cpp
)
target_link_libraries(tapegrad_layers PUBLIC tapegrad_autograd)
# init::orthogonal's QR goes through xtensor-blas to LAPACK. Only init.cpp
# includes it: <xtensor-blas/xlinalg.hpp> and <cblas.h> clash in one file.
find_package(xtensor-blas REQUIRED)
find_package(LAPACK REQUIRED)
target_link_libraries(tapegrad_layers PRIVATE xtensor-blas LAPACK::LAPACK)
