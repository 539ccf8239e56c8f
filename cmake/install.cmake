# Installing tapegrad (included by the top CMakeLists with TAPEGRAD_INSTALL):
#
#   <prefix>/include/tapegrad/<folder>/*.hpp       the headers
#   <prefix>/lib/libtapegrad_*.a                    the static libraries
#   <prefix>/lib/cmake/tapegrad/                    find_package(tapegrad CONFIG)
#   <prefix>/lib/pkgconfig/tapegrad.pc              pkg-config --cflags --libs tapegrad
#   <prefix>/bin/                                   the apps (when built)
#
# The targets: tapegrad::tapegrad (the library but the MPI part),
# tapegrad::<folder> for finer use (tapegrad::autograd, tapegrad::layers, ...),
# tapegrad::parallel (data parallelism; over MPI when built with it).
include(CMakePackageConfigHelpers)

set(TAPEGRAD_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/tapegrad CACHE STRING
    "where tapegradConfig.cmake is installed, relative to the prefix")

foreach(folder ${TAPEGRAD_LIBRARY_FOLDERS})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tapegrad/${folder}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()

get_property(exported GLOBAL PROPERTY TAPEGRAD_EXPORTED_TARGETS)
install(TARGETS ${exported} EXPORT tapegradTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tapegradTargets NAMESPACE tapegrad:: DESTINATION ${TAPEGRAD_INSTALL_CMAKEDIR})

if(TAPEGRAD_MPI)
  set(TAPEGRAD_PARALLEL_NOTE " over MPI")
else()
  set(TAPEGRAD_PARALLEL_NOTE ": built without MPI, the one-process stand-in")
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tapegradConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake-install/tapegradConfig.cmake
  INSTALL_DESTINATION ${TAPEGRAD_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tapegradConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake-install/tapegradConfig.cmake
              ${PROJECT_BINARY_DIR}/tapegradConfigVersion.cmake
        DESTINATION ${TAPEGRAD_INSTALL_CMAKEDIR})

# The same package from the build tree, without installing:
# find_package(tapegrad CONFIG) with tapegrad_DIR=<build>.
export(EXPORT tapegradTargets NAMESPACE tapegrad:: FILE ${PROJECT_BINARY_DIR}/tapegradTargets.cmake)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tapegradConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tapegradConfig.cmake
  INSTALL_DESTINATION ${PROJECT_BINARY_DIR} INSTALL_PREFIX ${PROJECT_BINARY_DIR})

# pkg-config: the libraries in link order (each before those it uses), and
# the packages they need from pkg-config's own names.
# backend/ calls OpenBLAS's own functions (openblas_set_num_threads), so
# OpenBLAS is named when it is the BLAS found (it holds LAPACK too).
if("${BLAS_LIBRARIES}" MATCHES "openblas")
  set(blas_packages "openblas")
  if(NOT "${LAPACK_LIBRARIES}" MATCHES "openblas")
    string(APPEND blas_packages " lapack")
  endif()
else()
  set(blas_packages "blas lapack")
endif()
set(TAPEGRAD_PKGCONFIG_REQUIRES "xtensor xsimd nlohmann_json fmt ${blas_packages}" CACHE STRING
    "pkg-config packages tapegrad.pc requires (the BLAS and LAPACK the library was built with)")
set(TAPEGRAD_PC_LIBS "")
foreach(lib train checkpoint datasets slots layers optim autograd io backend)
  string(APPEND TAPEGRAD_PC_LIBS " -ltapegrad_${lib}")
endforeach()
# Relocatable: the prefix is found from where the .pc file is
# (${pcfiledir}), so `cmake --install --prefix P` and a moved tree work.
file(RELATIVE_PATH TAPEGRAD_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" TAPEGRAD_PC_TO_PREFIX "${TAPEGRAD_PC_TO_PREFIX}")
file(RELATIVE_PATH TAPEGRAD_PC_INCLUDEDIR "${CMAKE_INSTALL_PREFIX}" "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
file(RELATIVE_PATH TAPEGRAD_PC_LIBDIR "${CMAKE_INSTALL_PREFIX}" "${CMAKE_INSTALL_FULL_LIBDIR}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/tapegrad.pc.in ${PROJECT_BINARY_DIR}/tapegrad.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tapegrad.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
