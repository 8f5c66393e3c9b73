// Replays a fuzz target's checked-in inputs through the normal build (unit
// label): tests/fuzz/corpus/TARGET/ (the seed corpus) and
// tests/fuzz/regressions/TARGET/ (every input that once crashed, hung or
// leaked). Under the sanitized build (scripts/test-sanitized) the replay runs
// with ASan + UBSan, so a regression is caught even without clang/libFuzzer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> inputs(const std::string& kind) {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path dir =
      std::filesystem::path(KERNTUNE_SOURCE_DIR) / "tests/fuzz" / kind / KT_FUZZ_TARGET;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

int replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

TEST(FuzzReplay, SeedCorpus) {
  const auto files = inputs("corpus");
  ASSERT_FALSE(files.empty()) << "no seed corpus for " KT_FUZZ_TARGET;
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_EQ(replay(f), 0);
  }
}

TEST(FuzzReplay, Regressions) {
  for (const auto& f : inputs("regressions")) {
    SCOPED_TRACE(f.string());
    EXPECT_EQ(replay(f), 0);
  }
}

}  // namespace
