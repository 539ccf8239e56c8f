find_package(benchmark REQUIRED)

function(tapegrad_bench name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE tapegrad_flags tapegrad_layers benchmark::benchmark)
endfunction()

tapegrad_bench(bench_tape ${CMAKE_CURRENT_LIST_DIR}/tape_bench.cpp)
tapegrad_bench(bench_layers ${CMAKE_CURRENT_LIST_DIR}/layer_bench.cpp)
add_executable(bench_gemm ${CMAKE_CURRENT_LIST_DIR}/gemm_bench.cpp)
target_link_libraries(bench_gemm PRIVATE tapegrad_flags tapegrad_backend benchmark::benchmark)
