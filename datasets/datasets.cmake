# MNIST (IDX files) and IMDB (reviews.json) readers, batching, and the
# fetch-on-first-use cache they share. Included from datasets/CMakeLists.txt.
find_package(nlohmann_json REQUIRED)

add_library(tapegrad_datasets STATIC
  ${CMAKE_CURRENT_LIST_DIR}/sha256.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fetch.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sampler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/idx.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mnist.cpp
  ${CMAKE_CURRENT_LIST_DIR}/imdb.cpp
  ${CMAKE_CURRENT_LIST_DIR}/imdb_vocab.cpp
  ${CMAKE_CURRENT_LIST_DIR}/imdb_json.cpp
)
target_link_libraries(tapegrad_datasets PUBLIC tapegrad_flags PRIVATE nlohmann_json::nlohmann_json)
# Batches are tg::Tensor, whose allocator (autograd/memory.cpp) lives in the
# autograd library.
if(TARGET tapegrad_autograd)
  target_link_libraries(tapegrad_datasets PUBLIC tapegrad_autograd)
endif()
