#pragma once
// Shared helpers of the fuzz targets (tests/fuzz/README.md). Every target
// defines LLVMFuzzerTestOneInput; the same source is linked either with
// libFuzzer (KERNTUNE_FUZZ=ON, clang) or with the corpus replay test
// (replay_test.cpp, the normal build), so a crash found once stays a test.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace kerntune::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// A private scratch folder for targets that must go through a file (the
/// loaders take paths). Created once per process under TMPDIR (or /tmp) and
/// removed at exit; its files are overwritten on every input.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/kt-fuzz-XXXXXX";
    if (!::mkdtemp(templ.data())) std::abort();
    static std::filesystem::path keep = templ;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(keep, ec);
    });
    return keep;
  }();
  return dir;
}

}  // namespace kerntune::fuzz
