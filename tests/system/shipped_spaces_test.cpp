// System test of the shipped 6.1 search spaces through the real qemu target:
// boots Debian's 6.1 kernel once (1 GiB, 2 vCPUs: the size the shipped
// defaults were read at, see docs/search-spaces-shipped.md) and checks that
//  1. every sysctl and sysfs knob of search-spaces/*.yaml exists in the guest
//     with the default its file claims (read by a program in the guest), and
//  2. the target applies each of them at that default and reads it back.
// Registered from tests/workloads/CMakeLists.txt (label system).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/yaml.hpp"
#include "kerntune/workloads/workload.hpp"

namespace fs = std::filesystem;
using namespace kerntune;
using namespace std::chrono_literals;

namespace {

const std::string kPreempt = "kernel/debug/sched/preempt";

struct Knob {
  std::string domain;  // sysctl | sysfs
  std::string name;
  std::string value;   // the default as the kernel prints it (bools 1/0)
};

std::vector<Knob> shipped_knobs() {
  std::vector<Knob> out;
  for (const char* f : {"sysctl-vm.yaml", "sysctl-net.yaml", "sysctl-sched.yaml", "sysfs-mm.yaml", "debugfs-sched.yaml"}) {
    auto doc = util::load_yaml_file(std::string(KERNTUNE_SOURCE_DIR) + "/search-spaces/" + f);
    EXPECT_TRUE(doc) << doc.error().format();
    if (!doc) continue;
    for (const auto& p : (*doc)["parameters"]) {
      Knob k{p["domain"].as<std::string>(), p["name"].as<std::string>(), {}};
      if (p["type"].as<std::string>() == "bool") {
        auto b = util::as_bool(p["default"], f, "default");
        k.value = b && *b ? "1" : "0";
      } else {
        k.value = p["default"].as<std::string>();
      }
      out.push_back(k);
    }
  }
  return out;
}

std::unique_ptr<targets::QemuTarget> make_target() {
  auto kernel = targets::default_kernel({KERNTUNE_SOURCE_DIR});
  if (!kernel || !fs::exists(*kernel)) {
    ADD_FAILURE() << "no kernel image: run scripts/fetch-kernel (system tests need a real kernel)";
    return nullptr;
  }
  if (!util::which("qemu-system-x86_64")) {
    ADD_FAILURE() << "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
    return nullptr;
  }
  targets::QemuOptions o;
  o.kernel = *kernel;
  o.memory = "1024M";  // THP and min_free_kbytes defaults depend on it
  o.cpus = 2;          // the debugfs sched latencies scale with it
  o.work_dir = std::string(KERNTUNE_BINARY_DIR) + "/shipped-spaces-system-work";
  o.boot_timeout = 120s;
  if (const char* a = std::getenv("KERNTUNE_TEST_ACCEL")) o.accel = a;
  EXPECT_EQ(o.validate(), "");
  return std::make_unique<targets::QemuTarget>(o);
}

// In the guest: for knob i (args: domain name expected ...) prints
// "KERNTUNE_METRIC k<i> 1" when the first line of its file shows the expected
// value (alone, or marked [v] / (v) in a list), else 0 — and "missing" files
// count as 0. Names and values arrive as positional arguments, never as code.
const char* kProbe = R"SH(i=0
while [ $# -ge 3 ]; do
  if [ "$1" = sysctl ]; then f=/proc/sys/$(echo "$2" | tr . /); else f=/sys/$2; fi
  v=$(head -n 1 "$f" 2>/dev/null)
  ok=0
  case "$v" in "$3"|*"[$3]"*|*"($3)"*) ok=1 ;; esac
  [ -e "$f" ] || ok=0
  echo "KERNTUNE_METRIC k$i $ok"
  echo "knob $i $2 = $v"
  i=$((i+1)); shift 3
done)SH";

}  // namespace

TEST(ShippedSpacesSystem, EveryKnobExistsWithItsDefaultAndIsAppliedAndReadBack) {
  auto knobs = shipped_knobs();
  ASSERT_GE(knobs.size(), 60u);
  auto t = make_target();
  ASSERT_TRUE(t);

  // The guest protocol limits one command's size: probe the knobs in chunks,
  // each chunk a trial in the same VM (no knob written, so all at boot values).
  auto make_probe = [](const std::vector<Knob>& chunk, std::size_t first) {
    workloads::Workload w;
    w.name = "shipped-spaces-probe";
    w.file = "(test)";
    w.command = {"sh", "-c", kProbe, "sh"};
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      w.command.insert(w.command.end(), {chunk[i].domain, chunk[i].name, chunk[i].value});
      workloads::MetricSpec m;
      m.name = "k" + std::to_string(first + i);
      m.source = workloads::MetricSpec::Source::kerntune_metric;
      w.metrics.push_back(m);
    }
    w.repeats = 1;
    w.warmup = 0;
    w.timeout = 120s;
    return w;
  };
  constexpr std::size_t kChunk = 16;
  int seq = 0;
  for (std::size_t first = 0; first < knobs.size(); first += kChunk) {
    std::vector<Knob> chunk(knobs.begin() + static_cast<long>(first),
                            knobs.begin() + static_cast<long>(std::min(knobs.size(), first + kChunk)));
    auto w = make_probe(chunk, 0);
    targets::TrialRequest read;
    read.seq = ++seq;
    read.workload = &w;
    auto out = t->run_trial(read);
    ASSERT_TRUE(out) << out.error().format();
    ASSERT_TRUE(out->ok) << out->failure_stage << ": " << out->failure_reason;
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      auto it = out->samples.find("k" + std::to_string(i));
      ASSERT_NE(it, out->samples.end()) << chunk[i].name;
      EXPECT_EQ(it->second.at(0), 1) << chunk[i].domain << " " << chunk[i].name
                                     << " is missing or not at its shipped default " << chunk[i].value;
    }
  }

  // The same VM: the target writes every knob at its default and reads it back.
  // kernel/debug/sched/preempt has its own case below (apply, read back, restore).
  auto probe = make_probe({knobs.front()}, 0);
  targets::TrialRequest apply;
  apply.seq = ++seq;
  apply.workload = &probe;
  std::vector<Knob> applied;
  for (const auto& k : knobs)
    if (k.name != kPreempt) applied.push_back(k);
  for (const auto& k : applied) (k.domain == "sysctl" ? apply.sysctls : apply.sysfs).emplace_back(k.name, k.value);
  auto out2 = t->run_trial(apply);
  ASSERT_TRUE(out2) << out2.error().format();
  ASSERT_TRUE(out2->ok) << out2->failure_stage << ": " << out2->failure_reason;
  for (const auto& k : applied) {
    ASSERT_TRUE(out2->effective.contains(k.name)) << k.name;
    EXPECT_EQ(out2->effective[k.name].get<std::string>(), k.value) << k.name;
  }
  EXPECT_EQ(t->boot_count(), 1);
  t->shutdown();
}

// The preempt knob prints "none (voluntary) full": the target must read the
// active "(value)" back and restore it in the same VM.
TEST(ShippedSpacesSystem, PreemptIsAppliedReadBackAndRestored) {
  auto t = make_target();
  ASSERT_TRUE(t);
  workloads::Workload w;
  w.name = "preempt-probe";
  w.file = "(test)";
  w.command = {"sh", "-c", "echo KERNTUNE_METRIC full $(grep -c '(full)' /sys/kernel/debug/sched/preempt)"};
  w.metrics.push_back({.name = "full", .source = workloads::MetricSpec::Source::kerntune_metric});
  w.repeats = 1;
  w.warmup = 0;
  targets::TrialRequest r;
  r.seq = 1;
  r.workload = &w;
  r.sysfs = {{kPreempt, "full"}};
  auto out = t->run_trial(r);
  ASSERT_TRUE(out) << out.error().format();
  ASSERT_TRUE(out->ok) << out->failure_stage << ": " << out->failure_reason;
  EXPECT_EQ(out->effective[kPreempt].get<std::string>(), "full");
  EXPECT_EQ(out->samples["full"].at(0), 1);
  r.seq = 2;
  r.sysfs.clear();
  auto back = t->run_trial(r);  // restored to voluntary in the same VM
  ASSERT_TRUE(back && back->ok);
  EXPECT_EQ(back->samples["full"].at(0), 0);
  EXPECT_EQ(t->boot_count(), 1);
  t->shutdown();
}
