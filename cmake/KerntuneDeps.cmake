# All dependencies come from Debian packages (scripts/setup installs them).
find_package(Threads REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)
# `kerntune dashboard`: cpp-httplib (libcpp-httplib-dev, a compiled library
# with a pkg-config file) and Chart.js (libjs-chart.js), whose file the
# dashboard serves itself: nothing is loaded from outside the machine.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_file(KERNTUNE_CHART_JS chart.min.js PATHS /usr/share/javascript/chart.js NO_DEFAULT_PATH REQUIRED)
# GoogleTest only for the test suite (scripts/setup --tests installs it).
if(KERNTUNE_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
# LBFGS++ is header-only (liblbfgspp-dev) and installs into /usr/include.
find_path(LBFGSPP_INCLUDE_DIR LBFGS.h REQUIRED)
add_library(kt_lbfgspp INTERFACE)
target_include_directories(kt_lbfgspp SYSTEM INTERFACE ${LBFGSPP_INCLUDE_DIR})
target_link_libraries(kt_lbfgspp INTERFACE Eigen3::Eigen)
