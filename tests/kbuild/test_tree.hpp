#pragma once
// Where the kernel tree for `kconfig`-labelled tests lives. A missing tree is a
// loud failure, never a skip: run scripts/fetch-linux-source first.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace kerntune::kbuild::test {

inline std::string linux_source() {
  const char* env = std::getenv("KERNTUNE_LINUX_SOURCE");
  std::string dir = env ? env : std::string(KERNTUNE_SOURCE_DIR) + "/.cache/linux-source-6.1";
  if (!std::filesystem::exists(dir + "/Kconfig")) {
    ADD_FAILURE() << "no kernel tree at " << dir << ": run scripts/fetch-linux-source";
    throw std::runtime_error("missing linux-source-6.1");
  }
  return dir;
}

}  // namespace kerntune::kbuild::test
