# Shared compile settings every kerntune target links (ccache's habit):
# kt_standard_settings carries warnings, -Werror in CI, sanitizers.
add_library(kt_standard_settings INTERFACE)
target_compile_options(kt_standard_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wunused -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough
  # (no -Wnull-dereference: false positives inside Eigen and libstdc++ at -O2)
  # GCC 12 reports false -Wrestrict positives inside std::string (GCC bug 105651)
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  # Designated initializers that leave defaulted members out are intended.
  -Wno-missing-field-initializers)
if(KERNTUNE_WERROR)
  target_compile_options(kt_standard_settings INTERFACE -Werror)
endif()
# KERNTUNE_SANITIZE: ASan + UBSan for the whole build (scripts/test-sanitized,
# build-asan/); every UBSan report is fatal so a test cannot pass over it.
if(KERNTUNE_SANITIZE)
  target_compile_options(kt_standard_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(kt_standard_settings INTERFACE -fsanitize=address,undefined)
endif()
# KERNTUNE_FUZZ: libFuzzer targets (tests/fuzz/, benchmarks/fuzz/run.sh). Needs
# clang (clang++-16 on Debian 12) in its own build folder: every library gets
# coverage instrumentation + ASan + UBSan, the fuzz_* executables link libFuzzer.
option(KERNTUNE_FUZZ "Build the libFuzzer targets (clang only)" OFF)
if(KERNTUNE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "KERNTUNE_FUZZ needs clang: configure with CXX=clang++-16")
  endif()
  target_compile_options(kt_standard_settings INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(kt_standard_settings INTERFACE -fsanitize=address,undefined)
  # libstdc++ 12 offers <expected> only when __cpp_concepts >= 202002L; clang 16
  # implements what it needs (P0848) but still advertises 201907L.
  if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
    target_compile_options(kt_standard_settings INTERFACE -U__cpp_concepts -D__cpp_concepts=202002L)
  endif()
endif()
target_include_directories(kt_standard_settings INTERFACE ${PROJECT_SOURCE_DIR}/include)
target_compile_definitions(kt_standard_settings INTERFACE KERNTUNE_VERSION_STRING="${PROJECT_VERSION}")

# kerntune_module(NAME [DEPS lib...])
# One static library per module: src/NAME/*.cpp, public headers in include/kerntune/NAME/.
# DEPS names other modules (without the kt_ prefix) or imported targets.
function(kerntune_module name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(kt_${name} STATIC ${sources})
  target_link_libraries(kt_${name} PUBLIC kt_standard_settings)
  foreach(dep IN LISTS M_DEPS)
    if(TARGET kt_${dep})
      target_link_libraries(kt_${name} PUBLIC kt_${dep})
    else()
      target_link_libraries(kt_${name} PUBLIC ${dep})
    endif()
  endforeach()
endfunction()

# kerntune_test(NAME LABEL label SOURCES ... DEPS ... [TIMEOUT s] [LOCK resource])
# A GoogleTest executable whose cases are registered with ctest under LABEL.
function(kerntune_test name)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT;LOCK;COST" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE kt_standard_settings GTest::gtest GTest::gtest_main)
  # Tests may include a module's private headers as "<module>/x.hpp" (src/<module>/);
  # product code sees only include/kerntune/.
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  foreach(dep IN LISTS T_DEPS)
    if(TARGET kt_${dep})
      target_link_libraries(${name} PRIVATE kt_${dep})
    else()
      target_link_libraries(${name} PRIVATE ${dep})
    endif()
  endforeach()
  target_compile_definitions(${name} PRIVATE
    KERNTUNE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    KERNTUNE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  # LOCK: tests sharing a resource (e.g. one kernel tree's O= folders) never run at once.
  if(T_LOCK)
    set(lock_props RESOURCE_LOCK ${T_LOCK})
  endif()
  # COST: ctest -j starts costlier tests first; give the long poles (real
  # kernel builds) a high cost so that a clean run (no cost data yet) does not
  # start them last.
  if(T_COST)
    set(cost_props COST ${T_COST})
  endif()
  gtest_discover_tests(${name}
    PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT} ${lock_props} ${cost_props}
    DISCOVERY_TIMEOUT 60)
endfunction()
