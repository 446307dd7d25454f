# Thin helpers so that each folder's CMakeLists.txt reads as a list of parts.

set(LF_WARNINGS -Wall -Wextra -Wno-unused-parameter)
if(LF_WERROR)
  list(APPEND LF_WARNINGS -Werror)
endif()

if(LF_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(LF_FUZZ)
  # Fuzzing builds (clang): every library gets libFuzzer's coverage
  # instrumentation and the sanitizers; only fuzz/ targets link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# lf_library(NAME SOURCES a.cc b.cc DEPS x y)
function(lf_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${LF_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# `lf_unit_tests` builds every lf_test binary (what `ctest -L unit` runs) and nothing else.
add_custom_target(lf_unit_tests)

# lf_test(NAME SOURCES a_test.cc DEPS x) -> a GoogleTest binary registered with CTest.
function(lf_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${LF_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
  add_dependencies(lf_unit_tests ${name})
endfunction()

# lf_benchmark(NAME SOURCES a_benchmark.cc DEPS x) -> a Google Benchmark binary (not run by CTest).
function(lf_benchmark name)
  if(NOT LF_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${LF_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark benchmark::benchmark_main)
endfunction()

# LF_NATIVE_ARCH: simdjson's on-demand parser is header code, compiled into
# our sources for the target of their compile flags: with none, its portable
# "fallback" kernel (stage 1 alone is picked at run time). With this option,
# the sources named by lf_native_arch_sources() are compiled for AVX2, BMI,
# PCLMUL and LZCNT (simdjson's "haswell" kernel). On by default when the build
# host's CPU has them; the programs then need such a CPU, so turn it off for
# binaries that are built to run elsewhere.
include(CheckCXXSourceRuns)
set(CMAKE_REQUIRED_QUIET ON)
check_cxx_source_runs([[
#include <cpuid.h>
int main() {
  __builtin_cpu_init();
  unsigned a = 0, b = 0, c = 0, d = 0;
  const bool lzcnt = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 5)) != 0;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("pclmul") && lzcnt
             ? 0 : 1;
}]] LF_HOST_HAS_AVX2)
unset(CMAKE_REQUIRED_QUIET)
option(LF_NATIVE_ARCH "Compile the JSON decoding hot path for the build host's AVX2 (see cmake/lf_helpers.cmake)"
       ${LF_HOST_HAS_AVX2})
set(LF_NATIVE_ARCH_FLAGS -mavx2 -mbmi -mpclmul -mlzcnt)

# lf_native_arch_sources(DIR a.cc b.cc) -> with LF_NATIVE_ARCH, the named
# sources of folder DIR (relative to the project root) get LF_NATIVE_ARCH_FLAGS.
function(lf_native_arch_sources dir)
  if(NOT LF_NATIVE_ARCH)
    return()
  endif()
  set(files)
  foreach(f IN LISTS ARGN)
    list(APPEND files ${PROJECT_SOURCE_DIR}/${dir}/${f})
  endforeach()
  set_source_files_properties(${files} DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}
                              PROPERTIES COMPILE_OPTIONS "${LF_NATIVE_ARCH_FLAGS}")
endfunction()
