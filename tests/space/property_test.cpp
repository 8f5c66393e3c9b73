// Property tests: for several spaces (conditions, chains, constraints), many
// samples with fixed seeds are all valid; encode/decode round-trips; random
// points of the unit cube decode to in-range values; sampling is deterministic
// and has the distribution the docs promise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "kerntune/space/space.hpp"

namespace kerntune::space {
namespace {

struct Named {
  const char* name;
  const char* yaml;
};

const Named kSpaces[] = {
    {"demo", R"y(
parameters:
  - {name: x, domain: generic, type: real, range: [-5.0, 10.0], default: 0.0}
  - {name: n, domain: generic, type: int, range: [1, 4096], scale: log, default: 64}
  - {name: mode, domain: generic, type: choice, values: [none, voluntary, full], default: none}
  - {name: fast, domain: generic, type: bool, default: false}
  - {name: level, domain: generic, type: tristate, default: m}
  - {name: depth, domain: generic, type: int, range: [1, 64], default: 4, when: "fast == true"}
)y"},
    {"chains_and_constraints", R"y(
parameters:
  - {name: a, domain: generic, type: bool}
  - {name: b, domain: generic, type: tristate, default: n, when: "a"}
  - {name: c, domain: generic, type: int, range: [-20, 20], default: 0, when: "b >= m"}
  - {name: d, domain: generic, type: real, range: [0.001, 1000], scale: log, default: 1, when: "c > 0 || !a"}
  - {name: hz, domain: kconfig, type: choice, values: [100, 250, 300, 1000], default: 250}
  - {name: e, domain: generic, type: int, range: [0, 100], default: 10}
  - {name: f, domain: generic, type: int, range: [0, 100], default: 20, when: "hz >= 300"}
constraints:
  - "e + f <= 100"
  - "c * 2 < e"
  - "d < 500"
)y"},
    {"sysctl_like", R"y(
parameters:
  - {name: vm.dirty_background_ratio, domain: sysctl, type: int, range: [0, 100], default: 10}
  - {name: vm.dirty_ratio, domain: sysctl, type: int, range: [1, 100], default: 20}
  - {name: vm.swappiness, domain: sysctl, type: int, range: [0, 200], default: 60}
  - {name: kernel/mm/transparent_hugepage/enabled, domain: sysfs, type: choice, values: [always, madvise, never], default: madvise}
  - {name: kernel/mm/transparent_hugepage/defrag, domain: sysfs, type: choice, values: [always, defer, madvise, never], default: madvise, when: "kernel/mm/transparent_hugepage/enabled != never"}
  - {name: vm.min_free_kbytes, domain: sysctl, type: int, range: [1024, 1048576], scale: log, default: 67584}
constraints:
  - "vm.dirty_background_ratio < vm.dirty_ratio"
)y"},
};

/// Equal coordinates, NaN (inactive) matching NaN.
bool same_point(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

class Property : public ::testing::TestWithParam<Named> {
 protected:
  Space space() {
    auto s = Space::load_string(GetParam().yaml, GetParam().name);
    if (!s) throw std::runtime_error(s.error().format());
    return std::move(*s);
  }
};

TEST_P(Property, EverySampleIsValidAndRoundTrips) {
  Space s = space();
  const auto dims = s.encoding();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 2000; ++i) {
      auto a = s.sample(rng);
      ASSERT_TRUE(a.has_value()) << a.error().format();
      auto st = s.validate(*a);
      ASSERT_TRUE(st.has_value()) << "seed " << seed << " sample " << i << ": " << st.error().format() << "\n"
                                  << to_json(*a).dump();
      std::vector<double> x = s.encode(*a);
      ASSERT_EQ(x.size(), s.size());
      for (std::size_t k = 0; k < x.size(); ++k) {
        const bool present = a->contains(s.parameters()[k].name);
        ASSERT_EQ(std::isnan(x[k]), !present) << s.parameters()[k].name;
        if (!present) continue;
        if (dims[k].kind == EncodedDim::Kind::categorical) {
          ASSERT_EQ(x[k], std::round(x[k]));
          ASSERT_GE(x[k], 0);
          ASSERT_LT(x[k], dims[k].categories);
        } else {
          ASSERT_GE(x[k], 0);
          ASSERT_LE(x[k], 1);
        }
      }
      ASSERT_EQ(s.decode(x), *a) << to_json(*a).dump() << " vs " << to_json(s.decode(x)).dump();
      // Encoding a decoded point is a fixed point (the optimizer's "repair").
      ASSERT_TRUE(same_point(s.encode(s.decode(x)), x));
    }
  }
}

TEST_P(Property, RandomUnitPointsDecodeInRange) {
  Space s = space();
  const auto dims = s.encoding();
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> u(-0.2, 1.2);  // also outside the cube: decode clamps
  for (int i = 0; i < 3000; ++i) {
    std::vector<double> x(s.size());
    for (std::size_t k = 0; k < x.size(); ++k)
      x[k] = dims[k].kind == EncodedDim::Kind::categorical ? u(rng) * dims[k].categories : u(rng);
    Assignment a = s.decode(x);
    auto st = s.validate(a);
    // Types, ranges and activity always hold; constraints are the optimizer's business.
    if (!st) {
      ASSERT_TRUE(st.error().message.starts_with("constraint ")) << st.error().format();
    }
    std::vector<double> y = s.encode(a);
    ASSERT_EQ(s.decode(y), a);
  }
}

TEST_P(Property, SameSeedSameSamples) {
  Space s = space();
  std::mt19937_64 r1(42), r2(42), r3(43);
  std::vector<Assignment> a, b, c;
  for (int i = 0; i < 200; ++i) {
    a.push_back(*s.sample(r1));
    b.push_back(*s.sample(r2));
    c.push_back(*s.sample(r3));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

INSTANTIATE_TEST_SUITE_P(Spaces, Property, ::testing::ValuesIn(kSpaces),
                         [](const ::testing::TestParamInfo<Named>& p) { return std::string(p.param.name); });

TEST(Distribution, UniformLogAndCategorical) {
  auto s = Space::load_string(kSpaces[0].yaml, "demo");
  ASSERT_TRUE(s.has_value());
  std::mt19937_64 rng(5);
  const int N = 6000;
  std::vector<double> xs;
  std::vector<long long> ns;
  std::map<std::string, int> modes;
  int fast = 0, depth_hits = 0;
  for (int i = 0; i < N; ++i) {
    Assignment a = *s->sample(rng);
    xs.push_back(std::get<double>(a.at("x")));
    ns.push_back(std::get<long long>(a.at("n")));
    ++modes[std::get<std::string>(a.at("mode"))];
    fast += std::get<bool>(a.at("fast"));
    depth_hits += a.contains("depth");
  }
  double mean = 0;
  for (double x : xs) mean += x / N;
  EXPECT_NEAR(mean, 2.5, 0.25);  // uniform on [-5, 10]; sd of the mean ~0.056
  EXPECT_GE(*std::min_element(ns.begin(), ns.end()), 1);
  EXPECT_LE(*std::max_element(ns.begin(), ns.end()), 4096);
  std::nth_element(ns.begin(), ns.begin() + N / 2, ns.end());
  EXPECT_GE(ns[N / 2], 40);  // log-uniform on [1, 4097): median sqrt(4097) = 64
  EXPECT_LE(ns[N / 2], 100);
  for (const auto& [mode, count] : modes) EXPECT_NEAR(count / double(N), 1.0 / 3, 0.04) << mode;
  EXPECT_EQ(modes.size(), 3u);
  EXPECT_NEAR(fast / double(N), 0.5, 0.04);
  EXPECT_EQ(depth_hits, fast);  // depth active exactly when fast
}

TEST(Distribution, IntegersAreUniformIncludingEndpoints) {
  auto s = Space::load_string("parameters:\n  - {name: k, domain: generic, type: int, range: [1, 4], default: 1}\n", "k");
  ASSERT_TRUE(s.has_value());
  std::mt19937_64 rng(11);
  std::map<long long, int> counts;
  for (int i = 0; i < 4000; ++i) ++counts[std::get<long long>(s->sample(rng)->at("k"))];
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [k, c] : counts) EXPECT_NEAR(c / 4000.0, 0.25, 0.035) << k;
}

TEST(Distribution, UnsatisfiableConstraintIsALocatedError) {
  auto s = Space::load_string(R"y(parameters:
  - {name: a, domain: generic, type: real, range: [0, 1], default: 0.5}
constraints:
  - "a == 0.5"
)y", "eq.yaml");
  ASSERT_TRUE(s.has_value()) << s.error().format();
  std::mt19937_64 rng(1);
  auto a = s->sample(rng);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().line, 4);
  EXPECT_NE(a.error().message.find("no random assignment satisfied the constraints in 10000 tries; 'a == 0.5' rejected 10000"),
            std::string::npos)
      << a.error().format();
}

}  // namespace
}  // namespace kerntune::space
