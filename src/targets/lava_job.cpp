// The lava target's data: job YAML, the guest plan, and reading a job back.
#include "lava_job.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "guest_session.hpp"
#include "kerntune/targets/guest_protocol.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::targets::lava {
namespace {

void emit_timeout(YAML::Emitter& e, const char* key, std::chrono::seconds s) {
  e << YAML::Key << key << YAML::Value << YAML::BeginMap << YAML::Key << "seconds" << YAML::Value
    << static_cast<long long>(s.count()) << YAML::EndMap;
}

using guest::join_argv;

long long field_ll(const guest::Reply& r, const char* key) {
  auto it = r.fields.find(key);
  if (it == r.fields.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (...) {
    return 0;
  }
}

bool is_sysfs(const std::string& path) { return util::starts_with(path, "/sys/"); }

}  // namespace

std::string kernel_image_arg(const std::string& cmdline) {
  std::string quoted = "'";
  for (char c : cmdline) {
    if (c == '\'') quoted += "'\"'\"'";
    else quoted += c;
  }
  quoted += "'";
  return "-kernel {kernel} -append " + quoted;
}

std::string job_yaml(const JobSpec& spec) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "device_type" << YAML::Value << spec.device_type;
  e << YAML::Key << "job_name" << YAML::Value << spec.job_name;
  e << YAML::Key << "timeouts" << YAML::Value << YAML::BeginMap;
  emit_timeout(e, "job", spec.job_timeout);
  emit_timeout(e, "action", std::max(spec.boot_timeout, spec.test_timeout));
  emit_timeout(e, "connection", std::max(spec.boot_timeout, spec.test_timeout));
  e << YAML::EndMap;
  e << YAML::Key << "priority" << YAML::Value << spec.priority;
  e << YAML::Key << "visibility" << YAML::Value << spec.visibility;
  if (!spec.tags.empty()) e << YAML::Key << "tags" << YAML::Value << YAML::Flow << spec.tags;
  e << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "arch" << YAML::Value << "amd64";
  for (const auto& [k, v] : spec.context)
    if (k != "arch") e << YAML::Key << k << YAML::Value << v;
  e << YAML::EndMap;
  e << YAML::Key << "actions" << YAML::Value << YAML::BeginSeq;
  // deploy: kernel and ramdisk to tmpfs
  e << YAML::BeginMap << YAML::Key << "deploy" << YAML::Value << YAML::BeginMap;
  emit_timeout(e, "timeout", std::chrono::seconds(300));
  e << YAML::Key << "to" << YAML::Value << "tmpfs";
  e << YAML::Key << "images" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "kernel" << YAML::Value << YAML::BeginMap << YAML::Key << "image_arg" << YAML::Value
    << kernel_image_arg(spec.cmdline) << YAML::Key << "url" << YAML::Value << spec.kernel_url << YAML::EndMap;
  e << YAML::Key << "ramdisk" << YAML::Value << YAML::BeginMap << YAML::Key << "image_arg" << YAML::Value
    << "-initrd {ramdisk}" << YAML::Key << "url" << YAML::Value << spec.ramdisk_url << YAML::EndMap;
  e << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  // boot: QEMU from tmpfs (no prompts: the monitors test watches the console)
  e << YAML::BeginMap << YAML::Key << "boot" << YAML::Value << YAML::BeginMap;
  emit_timeout(e, "timeout", spec.boot_timeout);
  e << YAML::Key << "method" << YAML::Value << "qemu";
  e << YAML::Key << "media" << YAML::Value << "tmpfs";
  e << YAML::EndMap << YAML::EndMap;
  // test: the monitors test over the whole plan
  e << YAML::BeginMap << YAML::Key << "test" << YAML::Value << YAML::BeginMap;
  emit_timeout(e, "timeout", spec.test_timeout);
  e << YAML::Key << "monitors" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << std::string(kSuiteName);
  e << YAML::Key << "start" << YAML::Value << std::string(kStartMarker);
  e << YAML::Key << "end" << YAML::Value << std::string(kEndMarker);
  e << YAML::Key << "pattern" << YAML::Value << std::string(kResultPattern);
  e << YAML::EndMap << YAML::EndSeq;
  e << YAML::EndMap << YAML::EndMap;
  e << YAML::EndSeq;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

util::Result<Plan> make_plan(const TrialRequest& request) {
  Plan plan;
  int id = 0;
  auto add = [&](PlanStep step, std::string_view verb, const std::vector<std::string>& args) -> util::Status {
    step.id = ++id;
    std::string line = guest::encode_command(step.id, verb, args);
    if (line.size() > guest::kMaxCommandLine)
      return util::invalid_input(fmt::format("a command of the trial is {} bytes encoded; the guest agent reads at most {}",
                                             line.size(), guest::kMaxCommandLine));
    plan.text += line;
    plan.steps.push_back(std::move(step));
    return {};
  };
  auto knobs = guest::knob_writes(request.sysctls, request.sysfs);
  if (!knobs) return util::invalid_input(knobs.error());  // a knob name the space should have refused
  for (const auto& k : *knobs) {
    PlanStep s;
    s.kind = PlanStep::Kind::write;
    s.knob = k;
    KT_TRY_STATUS(add(std::move(s), "write", {k.path, k.value}));
    plan.guest_seconds += std::chrono::seconds(5);
  }
  if (request.workload) {
    const workloads::Workload& w = *request.workload;
    plan.workload_name = w.name.empty() ? w.file : w.name;
    plan.repeats = request.repeats > 0 ? request.repeats : w.repeats;
    plan.warmup = request.warmup >= 0 ? request.warmup : w.warmup;
    int timeout_s = std::max(1, static_cast<int>(std::ceil(static_cast<double>(w.timeout.count()) / 1000.0)));
    auto run_step = [&](PlanStep::Kind kind, const std::vector<std::string>& argv, int repeat,
                        const std::vector<std::string>& prefix) -> util::Status {
      PlanStep s;
      s.kind = kind;
      s.argv = argv;
      s.repeat = repeat;
      s.timeout_s = timeout_s;
      std::vector<std::string> args = {std::to_string(timeout_s)};
      args.insert(args.end(), prefix.begin(), prefix.end());
      args.insert(args.end(), argv.begin(), argv.end());
      plan.guest_seconds += std::chrono::seconds(timeout_s);
      return add(std::move(s), "run", args);
    };
    for (const auto& argv : w.setup) KT_TRY_STATUS(run_step(PlanStep::Kind::setup, argv, 0, {}));
    for (int i = 0; i < plan.warmup; ++i) KT_TRY_STATUS(run_step(PlanStep::Kind::warmup, w.command, 0, {}));
    for (int i = 1; i <= plan.repeats; ++i)
      KT_TRY_STATUS(run_step(PlanStep::Kind::measure, w.command, i,
                      {"/bin/sh", "/etc/kerntune/measure", fmt::format("r{}", i)}));
  }
  // The end marker for LAVA's monitors test (fixed text, no value in it).
  plan.text += guest::encode_command(++id, "run",
                                     {"30", "/bin/sh", "-c", fmt::format("echo {} > /dev/console", kEndMarker)});
  return plan;
}

std::string init_script() {
  return fmt::format(R"(#!/bin/sh
# kerntune lava target: run the trial's plan with the guest agent, then power off.
echo '{}'
exec /bin/sh /etc/kerntune/agent < /etc/kerntune/plan
)",
                     kStartMarker);
}

std::string measure_script() {
  return R"(#!/bin/sh
# kerntune lava target: one measured repeat. $1 = label (r1, r2, ...), then the argv.
label=$1
shift
"$@" > /tmp/kt.measure 2>&1
rc=$?
cat /tmp/kt.measure
{
  awk -v l="$label" '$1 == "KERNTUNE_METRIC" && NF >= 3 { u = $4; if (u == "") u = "none"; print "KTLAVA " $2 "." l " pass " $3 " " u }' /tmp/kt.measure
  if [ "$rc" = 0 ]; then r=pass; else r=fail; fi
  echo "KTLAVA exit.$label $r $rc rc"
} > /dev/console
exit "$rc"
)";
}

std::string case_name(std::string_view test_case_id) {
  std::string out;
  bool in_run = false;
  for (char c : util::trim(test_case_id)) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || u >= 0x80) {
      out += static_cast<char>(std::tolower(u));
      in_run = false;
    } else if (!in_run) {
      out += '_';
      in_run = true;
    }
  }
  return out;
}

namespace {

std::optional<double> to_double(const YAML::Node& n) {
  if (!n || !n.IsScalar()) return std::nullopt;
  auto v = workloads::parse_number(n.Scalar());
  if (!v) return std::nullopt;
  return *v;
}

}  // namespace

JobLog parse_job_log(std::string_view text) {
  JobLog log;
  for (const auto& raw : util::split(text, '\n')) {
    std::string_view line = raw;
    if (util::starts_with(line, "- ")) line.remove_prefix(2);
    if (line.empty() || line.front() != '{') continue;
    YAML::Node n;
    try {
      n = YAML::Load(std::string(line));
    } catch (const YAML::Exception&) {
      continue;
    }
    if (!n.IsMap() || !n["lvl"] || !n["msg"]) continue;
    std::string lvl = n["lvl"].as<std::string>("");
    const YAML::Node msg = n["msg"];
    if (lvl == "target") {
      std::string m = msg.IsScalar() ? msg.Scalar() : "";
      // Terminal control sequences may precede a line (the guest clears the screen).
      if (auto p = m.find("@@KT:"); p != std::string::npos) m = m.substr(p);
      log.console += m + "\n";
    } else if (lvl == "results" && msg.IsMap()) {
      LavaResult r;
      r.suite = msg["definition"].as<std::string>("");
      r.name = msg["case"].as<std::string>("");
      r.result = msg["result"].as<std::string>("");
      r.measurement = to_double(msg["measurement"]);
      r.units = msg["units"].as<std::string>("");
      if (r.suite == "lava" && r.name == "job") {
        log.finished_ok = r.result == "pass";
        if (msg["error_type"]) log.error_type = msg["error_type"].as<std::string>("");
        if (msg["error_msg"]) log.error_msg = msg["error_msg"].as<std::string>("");
      }
      log.results.push_back(std::move(r));
    }
  }
  return log;
}

util::Result<std::vector<LavaResult>> parse_results_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  // A server's reply, not the user's input: io (a proxy's error page, a LAVA upgrade).
  if (j.is_discarded())
    return util::io_error("the LAVA results are not JSON: " + guest::tail_lines(std::string(text), 2));
  const nlohmann::json* arr = &j;
  if (j.is_object() && j.contains("results")) arr = &j["results"];
  if (!arr->is_array()) return util::io_error("the LAVA results page has no results array");
  std::vector<LavaResult> out;
  for (const auto& t : *arr) {
    if (!t.is_object()) continue;
    LavaResult r;
    auto str = [&](const char* k) { return t.contains(k) && t[k].is_string() ? t[k].get<std::string>() : std::string(); };
    r.name = str("name");
    r.units = str("unit");
    if (r.units.empty()) r.units = str("units");
    if (t.contains("suite")) r.suite = t["suite"].is_string() ? t["suite"].get<std::string>() : t["suite"].dump();
    if (t.contains("result")) {
      const auto& res = t["result"];
      if (res.is_string()) r.result = res.get<std::string>();
      else if (res.is_number_integer()) {  // LAVA's enum: 0 unknown, 1 pass, 2 fail, 3 skip
        static const char* names[] = {"unknown", "pass", "fail", "skip"};
        int v = res.get<int>();
        r.result = v >= 0 && v <= 3 ? names[v] : "unknown";
      }
    }
    if (t.contains("measurement")) {
      const auto& m = t["measurement"];
      if (m.is_number()) r.measurement = m.get<double>();
      else if (m.is_string()) {
        if (auto v = workloads::parse_number(m.get<std::string>())) r.measurement = *v;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

TrialOutcome assemble_outcome(const Plan& plan, const TrialRequest& request, const JobLog& log,
                              const std::vector<LavaResult>& results, const std::string& job_failure) {
  TrialOutcome out;
  out.ok = true;
  guest::ConsoleParser parser;
  parser.feed(log.console);
  std::string workload_log;
  std::string why = job_failure.empty() ? std::string("the job ended") : job_failure;
  auto fail = [&](std::string stage, std::string reason) {
    out.ok = false;
    out.failure_stage = std::move(stage);
    out.failure_reason = std::move(reason);
  };
  bool timed_out_job = job_failure.find("timed out") != std::string::npos ||
                       job_failure.find("Timeout") != std::string::npos || log.error_type == "Timeout";
  if (!parser.ready()) {
    if (parser.panic()) fail("boot", "kernel panic at boot: " + *parser.panic());
    else fail("boot", fmt::format("the guest never started the kerntune agent ({}): {}", why,
                                  guest::tail_lines(log.console, 3, "(no console output)")));
  }
  const workloads::Workload* w = request.workload;
  guest::PooledMetrics pooled;
  for (std::size_t i = 0; out.ok && i < plan.steps.size(); ++i) {
    const PlanStep& s = plan.steps[i];
    auto reply = parser.take(s.id);
    if (!reply) {
      std::string doing = s.kind == PlanStep::Kind::write ? fmt::format("writing {} '{}'", s.knob.kind, s.knob.name)
                                                          : fmt::format("running `{}`", join_argv(s.argv));
      std::string stage = s.kind == PlanStep::Kind::write ? "apply" : "workload";
      if (parser.panic()) fail(stage, fmt::format("kernel panic while {}: {}", doing, *parser.panic()));
      else if (timed_out_job && s.kind != PlanStep::Kind::write)
        fail("timeout", fmt::format("LAVA timed the job out while {} ({})", doing, why));
      else fail(stage, fmt::format("no answer from the guest while {} ({})", doing, why));
      break;
    }
    if (s.kind == PlanStep::Kind::write) {
      switch (reply->rc) {
        case 0: out.effective[s.knob.name] = guest::normalize_knob_value(reply->payload, is_sysfs(s.knob.path)); break;
        case 4: out.effective[s.knob.name] = s.knob.value; break;
        case 2:
          fail("apply", fmt::format("{} '{}' does not exist in this kernel ({} is missing)", s.knob.kind,
                                    s.knob.name, s.knob.path));
          break;
        case 1:
          fail("apply", fmt::format("the kernel refused value '{}' for {} '{}': {}", s.knob.value, s.knob.kind,
                                    s.knob.name, util::trim(reply->payload)));
          break;
        default:
          fail("apply", fmt::format("the guest agent refused {} '{}': {}", s.knob.kind, s.knob.name,
                                    util::trim(reply->payload)));
      }
      continue;
    }
    bool timed_out = field_ll(*reply, "timedout") != 0;
    double seconds = static_cast<double>(field_ll(*reply, "elapsed_cs")) / 100.0;
    std::string label = s.kind == PlanStep::Kind::setup     ? "setup"
                        : s.kind == PlanStep::Kind::warmup  ? "warm-up"
                                                            : fmt::format("repeat {}/{}", s.repeat, plan.repeats);
    workload_log += fmt::format("== {} `{}`: exit {}, {:.2f} s ==\n{}\n", label, join_argv(s.argv), reply->rc,
                                seconds, reply->payload);
    // The same rules as a live session's (guest_session.hpp).
    if (auto failed = guest::run_failure(plan.workload_name, label, s.timeout_s, timed_out, reply->rc, reply->payload)) {
      fail(failed->first, failed->second);
      break;
    }
    if (s.kind != PlanStep::Kind::measure || !w) continue;
    auto metrics = workloads::extract_metrics(*w, reply->payload);
    if (!metrics) {
      fail("parse", fmt::format("workload '{}' ({}): {}", plan.workload_name, label, metrics.error().message));
      break;
    }
    // KERNTUNE_METRIC metrics: the value LAVA recorded for this repeat.
    int from_lava = 0;
    for (auto& [name, value] : *metrics) {
      const auto* spec = w->find_metric(name);
      if (!spec || spec->source != workloads::MetricSpec::Source::kerntune_metric) continue;
      std::string want = case_name(fmt::format("{}.r{}", name, s.repeat));
      for (const auto& r : results)
        if (r.name == want && r.measurement && r.suite.find(kSuiteName) != std::string::npos) {
          value = *r.measurement * spec->scale;
          ++from_lava;
        }
    }
    out.effective["lava_measurements"] = out.effective.value("lava_measurements", 0) + from_lava;
    guest::record_samples(*metrics, guest::agent_metrics(*reply), out);
    pooled.add(*w, reply->payload);
  }
  if (out.ok && w) {
    guest::record_units(*w, out);
    pooled.record(*w, out);
  }
  if (!out.ok) out.samples.clear();
  if (!workload_log.empty()) out.artifacts.push_back({"workload.log", std::move(workload_log)});
  return out;
}

}  // namespace kerntune::targets::lava
