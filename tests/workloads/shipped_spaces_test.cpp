// The shipped 6.1 search spaces (search-spaces/{sysctl-*,sysfs-mm,debugfs-sched,cmdline}.yaml)
// against the defaults that Debian's 6.1 kernel reported in a booted QEMU guest
// (tests/data/guest-defaults-6.1.txt, written by scripts/dump-guest-defaults):
// every sysctl and sysfs knob must exist in the guest with the default the
// file claims. With the space module built, each file must also load as a Space.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <algorithm>
#include <set>

#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"
#ifdef KT_HAVE_SPACE
#include "kerntune/space/space.hpp"
#endif

namespace fs = std::filesystem;
using kerntune::util::trim;

namespace {

const std::string kSource = KERNTUNE_SOURCE_DIR;
const std::vector<std::string> kFiles = {"sysctl-vm.yaml",  "sysctl-net.yaml", "sysctl-sched.yaml",
                                         "sysfs-mm.yaml",   "debugfs-sched.yaml", "cmdline.yaml"};

struct Dump {
  std::map<std::string, std::string> sysctl;  // key -> value
  std::map<std::string, std::string> sysfs;   // path relative to /sys -> first line
};

Dump load_dump() {
  Dump d;
  auto text = kerntune::util::read_file(kSource + "/tests/data/guest-defaults-6.1.txt");
  EXPECT_TRUE(text) << text.error().format();
  if (!text) return d;
  for (const auto& line : kerntune::util::split(*text, '\n')) {
    auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    if (line.starts_with("sysctl ")) d.sysctl[line.substr(7, eq - 7)] = trim(line.substr(eq + 3));
    if (line.starts_with("sysfs /sys/")) d.sysfs[line.substr(11, eq - 11)] = trim(line.substr(eq + 3));
  }
  return d;
}

// The active value of a sysfs file's first line: "[madvise]" in a bracketed
// list, "(voluntary)" in sched/preempt's list, else the whole text.
std::string active_value(const std::string& text) {
  for (auto [open, close] : {std::pair{'[', ']'}, std::pair{'(', ')'}}) {
    auto a = text.find(open), b = text.find(close);
    if (a != std::string::npos && b != std::string::npos && b > a) return text.substr(a + 1, b - a - 1);
  }
  return text;
}

// The YAML default as the kernel prints it: bools as 1/0, the rest verbatim.
std::string kernel_text(const YAML::Node& p) {
  std::string type = p["type"].as<std::string>();
  if (type == "bool") {
    auto b = kerntune::util::as_bool(p["default"], "", "default");
    EXPECT_TRUE(b) << p["name"].as<std::string>();
    return b && *b ? "1" : "0";
  }
  return p["default"].as<std::string>();
}

std::vector<YAML::Node> parameters_of(const std::string& file) {
  auto doc = kerntune::util::load_yaml_file(kSource + "/search-spaces/" + file);
  EXPECT_TRUE(doc) << doc.error().format();
  if (!doc) return {};
  std::vector<YAML::Node> out;
  for (const auto& p : (*doc)["parameters"]) out.push_back(p);
  return out;
}

}  // namespace

TEST(ShippedSpaces, AtLeastFortyParametersWithDescriptionsAndUniqueNames) {
  std::set<std::string> names;
  std::size_t total = 0;
  for (const auto& f : kFiles) {
    for (const auto& p : parameters_of(f)) {
      ++total;
      std::string name = p["name"].as<std::string>();
      EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
      ASSERT_TRUE(p["description"]) << name;
      EXPECT_GT(p["description"].as<std::string>().size(), 20u) << name;
    }
  }
  EXPECT_GE(total, 40u);
}

TEST(ShippedSpaces, EverySysctlAndSysfsDefaultMatchesTheBootedGuest) {
  Dump dump = load_dump();
  ASSERT_GT(dump.sysctl.size(), 500u) << "the dump looks truncated";
  std::size_t checked = 0;
  for (const auto& f : kFiles) {
    for (const auto& p : parameters_of(f)) {
      std::string name = p["name"].as<std::string>();
      std::string domain = p["domain"].as<std::string>();
      SCOPED_TRACE(f + ": " + name);
      if (domain == "sysctl") {
        auto it = dump.sysctl.find(name);
        ASSERT_NE(it, dump.sysctl.end()) << "the 6.1 guest has no sysctl " << name;
        EXPECT_EQ(kernel_text(p), it->second);
        ++checked;
      } else if (domain == "sysfs") {
        auto it = dump.sysfs.find(name);
        ASSERT_NE(it, dump.sysfs.end()) << "the 6.1 guest has no /sys/" << name;
        EXPECT_EQ(kernel_text(p), active_value(it->second));
        ++checked;
      } else {
        EXPECT_EQ(domain, "cmdline");
      }
      // A choice's default is one of its values; an int's lies in its range.
      if (p["values"]) {
        auto values = p["values"].as<std::vector<std::string>>();
        EXPECT_NE(std::find(values.begin(), values.end(), p["default"].as<std::string>()), values.end());
      }
      if (p["range"] && p["type"].as<std::string>() == "int") {
        auto def = p["default"].as<long long>();
        EXPECT_LE(p["range"][0].as<long long>(), def);
        EXPECT_GE(p["range"][1].as<long long>(), def);
      }
    }
  }
  EXPECT_GE(checked, 40u);
}

TEST(ShippedSpaces, CmdlineDefaultsAgreeWithWhatTheGuestShows) {
  Dump dump = load_dump();
  std::map<std::string, std::string> defaults;
  for (const auto& p : parameters_of("cmdline.yaml")) defaults[p["name"].as<std::string>()] = kernel_text(p);
  // Boot parameters whose effect the guest exposes at run time.
  EXPECT_EQ(defaults.at("preempt"), active_value(dump.sysfs.at("kernel/debug/sched/preempt")));
  EXPECT_EQ(defaults.at("transparent_hugepage"), active_value(dump.sysfs.at("kernel/mm/transparent_hugepage/enabled")));
  EXPECT_EQ(dump.sysfs.at("module/workqueue/parameters/power_efficient"), defaults.at("workqueue.power_efficient") == "1" ? "Y" : "N");
  EXPECT_EQ(dump.sysfs.at("module/rcupdate/parameters/rcu_expedited"), defaults.at("rcupdate.rcu_expedited"));
  auto text = kerntune::util::read_file(kSource + "/tests/data/guest-defaults-6.1.txt");
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("\nclocksource " + defaults.at("clocksource") + " "), std::string::npos);
}

// tests/data/guest-check-6.1.txt (scripts/dump-guest-defaults --check-spaces):
// the guest accepted every range end, choice value and bool of each sysctl and
// sysfs knob, read back exactly (multi-value files: the active one), and booted
// with every non-default value of each boot parameter without calling it unknown.
TEST(ShippedSpaces, EveryValueWasAcceptedByTheBootedGuest) {
  auto text = kerntune::util::read_file(kSource + "/tests/data/guest-check-6.1.txt");
  ASSERT_TRUE(text) << text.error().format();
  std::map<std::string, std::string> written;  // "NAME VALUE" -> read back
  std::vector<std::string> cmdlines;
  for (const auto& line : kerntune::util::split(*text, '\n')) {
    EXPECT_FALSE(line.starts_with("write-fail")) << line;
    EXPECT_FALSE(line.starts_with("dmesg")) << line;
    if (line.starts_with("write-ok ")) {
      auto arrow = line.find(" -> ");
      ASSERT_NE(arrow, std::string::npos) << line;
      written[line.substr(9, arrow - 9)] = trim(line.substr(arrow + 4));
    }
    if (line.starts_with("cmdline ")) cmdlines.push_back(" " + line.substr(8) + " ");
  }
  ASSERT_EQ(cmdlines.size(), 2u);
  for (const auto& f : kFiles) {
    for (const auto& p : parameters_of(f)) {
      std::string name = p["name"].as<std::string>();
      std::string type = p["type"].as<std::string>();
      std::vector<std::string> values = type == "bool" ? std::vector<std::string>{"0", "1"}
                                        : p["values"] ? p["values"].as<std::vector<std::string>>()
                                                      : std::vector<std::string>{p["range"][0].as<std::string>(),
                                                                                 p["range"][1].as<std::string>()};
      SCOPED_TRACE(f + ": " + name);
      for (const auto& v : values) {
        if (p["domain"].as<std::string>() == "cmdline") {
          std::string token = type == "bool" ? (v == "1" ? " " + name + " " : "") : " " + name + "=" + v + " ";
          if (token.empty() || v == kernel_text(p)) continue;  // the default needs no boot of its own
          bool booted = std::any_of(cmdlines.begin(), cmdlines.end(),
                                    [&](const std::string& c) { return c.find(token) != std::string::npos; });
          EXPECT_TRUE(booted) << "no checked boot had '" << trim(token) << "'";
          continue;
        }
        auto it = written.find(name + " " + v);
        ASSERT_NE(it, written.end()) << "value " << v << " was not written in the guest";
        EXPECT_EQ(active_value(it->second), v);
      }
    }
  }
}

#ifdef KT_HAVE_SPACE
TEST(ShippedSpaces, EachFileLoadsAsASpaceAndTheyMerge) {
  kerntune::space::Space all;
  bool first = true;
  for (const auto& f : kFiles) {
    auto s = kerntune::space::Space::load_file(kSource + "/search-spaces/" + f);
    ASSERT_TRUE(s) << s.error().format();
    auto d = s->defaults();
    EXPECT_TRUE(s->validate(d)) << f << ": defaults violate the file's own constraints";
    if (first) {
      all = *s;
      first = false;
    } else {
      auto merged = all.merge(*s);
      ASSERT_TRUE(merged) << merged.error().format();
    }
  }
  EXPECT_GE(all.size(), 40u);
  EXPECT_TRUE(all.validate(all.defaults()));
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20; ++i) {
    auto a = all.sample(rng);
    ASSERT_TRUE(a) << a.error().format();
    EXPECT_TRUE(all.validate(*a));
  }
}
#endif
