// No injection through the lava target (docs/hardening.md pattern): hostile
// values — spaces, quotes, ; $() backticks, newlines — in a job name, the
// kernel command line, a sysctl value and workload arguments stay data. The
// job YAML is read back by yaml-cpp and by LAVA's own Python (PyYAML, shlex for
// the QEMU image_arg); one real lava-run job carries the values into a guest,
// where they arrive byte for byte and nothing they spell runs.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "../integration/cli.hpp"
#include "targets/lava_job.hpp"
#include "targets/lava_target.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/workloads/workload.hpp"

using namespace std::chrono_literals;
namespace targets = kerntune::targets;
namespace lava = kerntune::targets::lava;

namespace {

const std::string kHostile = "a b 'q' \"d\" ; touch /tmp/PWNED1 $(touch /tmp/PWNED2) `touch /tmp/PWNED3` | x & y\nline2 \\ end";

}  // namespace

TEST(LavaInjection, HostileValuesInTheJobYamlReadBackExactly) {
  lava::JobSpec js;
  js.job_name = kHostile;
  js.cmdline = "console=ttyS0 it's=$(x) `y`;z";
  js.kernel_url = "file:///tmp/k b/$(x)'vmlinuz";
  js.ramdisk_url = "file:///tmp/r\"d";
  js.tags = {kHostile};
  js.context = {{"note", kHostile}};
  std::string text = lava::job_yaml(js);
  YAML::Node n = YAML::Load(text);
  EXPECT_EQ(n["job_name"].as<std::string>(), kHostile);
  EXPECT_EQ(n["tags"][0].as<std::string>(), kHostile);
  EXPECT_EQ(n["context"]["note"].as<std::string>(), kHostile);
  EXPECT_EQ(n["actions"][0]["deploy"]["images"]["kernel"]["url"].as<std::string>(), js.kernel_url);
  EXPECT_EQ(n["actions"][0]["deploy"]["images"]["ramdisk"]["url"].as<std::string>(), js.ramdisk_url);

  // LAVA's side: PyYAML loads the job, shlex splits the kernel's image_arg into
  // exactly -kernel {kernel} -append CMDLINE.
  auto py = kerntune::util::which("python3");
  ASSERT_TRUE(py) << "needs python3";
  kt_test::TempDir dir;
  kt_test::write(dir / "job.yaml", text);
  kerntune::util::RunOptions ro;
  ro.argv = {"/usr/bin/python3", "-c",
             "import sys, json, shlex, yaml\n"
             "j = yaml.safe_load(open(sys.argv[1]))\n"
             "arg = j['actions'][0]['deploy']['images']['kernel']['image_arg']\n"
             "print(json.dumps({'name': j['job_name'], 'argv': shlex.split(arg)}))\n",
             dir / "job.yaml"};
  auto r = kerntune::util::run(ro);
  ASSERT_TRUE(r && r->ok()) << (r ? r->err : r.error().message);
  auto j = nlohmann::json::parse(r->out);
  EXPECT_EQ(j["name"].get<std::string>(), kHostile);
  EXPECT_EQ(j["argv"], (nlohmann::json{"-kernel", "{kernel}", "-append", js.cmdline}));
}

TEST(LavaInjection, HostileValuesReachTheGuestLiterallyThroughLavaRun) {
  auto k = targets::default_kernel({KERNTUNE_SOURCE_DIR});
  auto d = targets::default_lava_device({KERNTUNE_SOURCE_DIR});
  ASSERT_TRUE(k && std::filesystem::exists(*k)) << "no kernel image: run scripts/fetch-kernel";
  ASSERT_TRUE(d) << "no LAVA device file: run scripts/lava-setup";
  ASSERT_TRUE(kerntune::util::which("lava-run")) << "lava-run is not installed: run scripts/lava-setup";
  ASSERT_EQ(geteuid(), 0u) << "lava-run needs root";
  for (const char* f : {"/tmp/PWNED1", "/tmp/PWNED2", "/tmp/PWNED3"}) std::filesystem::remove(f);
  kt_test::TempDir dir;
  targets::LavaOptions o;
  o.kernel = *k;
  o.device = *d;
  o.work_dir = dir / "work $(touch PWNED4) 'q'";
  o.boot_timeout = 240s;
  targets::LavaTarget target(o);
  // The guest prints the argument and the domainname it sees, base64 (exact
  // bytes), and whether any PWNED file exists.
  kt_test::write(dir / "w.yaml", R"Y(name: echo
command: [sh, -c, "echo ARG:$(printf '%s' \"$1\" | base64 -w 0); echo DOM:$(base64 -w 0 < /proc/sys/kernel/domainname); ls /tmp/PWNED* 2>/dev/null | wc -l | sed 's/^/KERNTUNE_METRIC pwned /'", argv0, PLACEHOLDER]
repeats: 1
warmup: 0
timeout: 60s
metrics:
  - {name: pwned, kerntune_metric: true}
)Y");
  auto w = kerntune::workloads::load_workload(dir / "w.yaml", {});
  ASSERT_TRUE(w) << w.error().message;
  w->command.back() = kHostile;
  const std::string domain = "d 'q' \"x\" ;$(touch /tmp/PWNED2)`touch /tmp/PWNED3`|&";
  targets::TrialRequest req;
  req.seq = 7;
  req.workload = &*w;
  req.sysctls = {{"kernel.domainname", domain}};
  auto out = target.run_trial(req);
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_TRUE(out->ok) << out->failure_stage << ": " << out->failure_reason;
  ASSERT_EQ(out->samples["pwned"], std::vector<double>{0}) << "a hostile value ran in the guest";
  EXPECT_EQ(out->effective["kernel.domainname"].get<std::string>(), domain);
  std::string wl;
  for (const auto& a : out->artifacts)
    if (a.name == "workload.log") wl = a.content;
  auto field = [&](const std::string& tag) -> std::string {
    auto p = wl.find("\n" + tag);
    if (p == std::string::npos) return "(missing)";
    auto e = wl.find('\n', p + 1 + tag.size());
    auto dec = targets::guest::base64_decode(wl.substr(p + 1 + tag.size(), e - p - 1 - tag.size()));
    return dec ? *dec : "(not base64)";
  };
  EXPECT_EQ(field("ARG:"), kHostile) << wl;
  EXPECT_EQ(kerntune::util::trim(field("DOM:")), domain) << wl;
  for (const char* f : {"/tmp/PWNED1", "/tmp/PWNED2", "/tmp/PWNED3"})
    EXPECT_FALSE(std::filesystem::exists(f)) << f << " was created on the host";
  EXPECT_FALSE(std::filesystem::exists(dir / "PWNED4"));
}
