// Fuzz target: the search-space loader (src/space/loader.cpp and the YAML
// helpers of util). Input: a search-space file. When it loads, the space is
// exercised the way a campaign uses it: defaults, validation, encoding and
// decoding, a few random samples, JSON. Checked, not only run: an encoding has
// one coordinate per parameter, and every sample is valid (Space::sample's
// contract).
#include <random>
#include <string>

#include "fuzz_common.hpp"
#include "kerntune/space/space.hpp"

using namespace kerntune;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto loaded = space::Space::load_string(std::string(fuzz::as_text(data, size)), "fuzz.yaml");
  if (!loaded) {
    (void)loaded.error().format();
    return 0;
  }
  const space::Space& s = *loaded;
  const space::Assignment d = s.defaults();
  (void)s.validate(d);
  const std::vector<double> x = s.encode(d);
  if (x.size() != s.size()) __builtin_trap();
  (void)s.validate(s.decode(x));
  (void)space::to_json(s).dump();
  (void)space::to_json(d).dump();
  std::mt19937_64 rng(size);
  for (int i = 0; i < 3; ++i) {
    auto a = s.sample(rng);
    if (!a) break;  // constraints too tight: a located error, not a crash
    if (!s.validate(*a)) __builtin_trap();  // a sample is valid by contract
    (void)s.decode(s.encode(*a));
  }
  (void)s.from_json(nlohmann::json::parse(R"({"x": 1, "vm.dirty_ratio": "a"})"));
  return 0;
}
