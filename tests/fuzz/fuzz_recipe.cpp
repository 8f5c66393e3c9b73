// Fuzz target: the recipe loader (src/campaign/recipe.cpp), which reads a
// file by path. Input: the recipe text, written to a scratch folder and
// loaded. Search-space files it names resolve as usual (the scratch folder,
// then the shipped search-spaces/), so valid recipes reach the space loader.
#include <fstream>
#include <string>

#include "fuzz_common.hpp"
#include "kerntune/campaign/recipe.hpp"

using namespace kerntune;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = (fuzz::scratch_dir() / "recipe.yaml").string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto r = campaign::load_recipe(path);
  if (!r) {
    (void)r.error().format();
    return 0;
  }
  (void)r->optimized();
  (void)r->metric_names();
  (void)r->space.defaults();
  return 0;
}
