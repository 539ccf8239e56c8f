add_library(tapegrad_layers STATIC
  init.cpp
  linear.cpp
  cells.cpp
  recurrent.cpp
)
target_link_libraries(tapegrad_layers PUBLIC tapegrad_autograd)
