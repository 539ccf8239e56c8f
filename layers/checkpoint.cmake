# Checkpoints in the safetensors format: tensors in, tensors out.
find_package(nlohmann_json REQUIRED)
add_library(tapegrad_checkpoint STATIC ${CMAKE_CURRENT_LIST_DIR}/safetensors.cpp)
target_link_libraries(tapegrad_checkpoint
  PUBLIC tapegrad_flags
  PRIVATE nlohmann_json::nlohmann_json)
# tg::Tensor allocates through tg::memory (autograd/memory.cpp), which is
# compiled into tapegrad_autograd; only that object file gets linked.
if(TARGET tapegrad_autograd)
  target_link_libraries(tapegrad_checkpoint PUBLIC tapegrad_autograd)
endif()
