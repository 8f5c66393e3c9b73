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
if(KERNTUNE_SANITIZE)
  target_compile_options(kt_standard_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(kt_standard_settings INTERFACE -fsanitize=address,undefined)
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
  cmake_parse_arguments(T "" "LABEL;TIMEOUT;LOCK" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE kt_standard_settings GTest::gtest GTest::gtest_main)
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
  gtest_discover_tests(${name}
    PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT} ${lock_props}
    DISCOVERY_TIMEOUT 60)
endfunction()
