#pragma once
// Helpers for tests that drive the real kerntune binary.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"

namespace kt_test {

inline std::string kerntune_bin() { return std::string(KERNTUNE_BINARY_DIR) + "/kerntune"; }
inline std::string source_dir() { return KERNTUNE_SOURCE_DIR; }

/// A fresh folder under /tmp, removed at destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("kt-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

struct CliResult {
  int code = -1;
  std::string out, err;
};

inline CliResult run_cli(const std::vector<std::string>& args, const std::string& cwd = "",
                          std::chrono::milliseconds timeout = std::chrono::minutes(10)) {
  kerntune::util::RunOptions o;
  o.argv = {kerntune_bin()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.cwd = cwd;
  o.timeout = timeout;
  auto r = kerntune::util::run(o);
  if (!r) return {-1, "", r.error().message};
  return {r->timed_out ? -2 : r->exit_code, r->out, r->err};
}

/// Copies the documented demo (docs/examples/demo) into `dir`.
inline void copy_demo(const std::filesystem::path& dir) {
  for (const char* f : {"recipe.yaml", "eval.py"})
    std::filesystem::copy_file(source_dir() + "/docs/examples/demo/" + f, dir / f,
                               std::filesystem::copy_options::overwrite_existing);
}

}  // namespace kt_test
