# Checkpoints in the safetensors format: tensors in, tensors out. Needs only
# tensor.hpp (header-only), so it does not link the autograd library.
find_package(nlohmann_json REQUIRED)
add_library(tapegrad_checkpoint STATIC ${CMAKE_CURRENT_LIST_DIR}/safetensors.cpp)
target_link_libraries(tapegrad_checkpoint
  PUBLIC tapegrad_flags
  PRIVATE nlohmann_json::nlohmann_json)
