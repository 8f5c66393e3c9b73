// The lava target's trial: initramfs with the plan → job YAML → LAVA → outcome.
#include "lava_target.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "guest_agent.hpp"
#include "kerntune/targets/initramfs.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/workloads/workload.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string file_url(const std::string& path) { return "file://" + fs::absolute(path).lexically_normal().string(); }

std::string modules_release_dir(const TrialRequest& request, const LavaOptions& o) {
  for (const auto& d : request.boot.modules_dirs) {
    if (fs::exists(fs::path(d) / "modules.builtin") || fs::exists(fs::path(d) / "kernel")) return d;
    std::error_code ec;
    for (const auto& sub : fs::directory_iterator(d, ec))
      if (sub.is_directory() && fs::exists(sub.path() / "kernel")) return sub.path().string();
  }
  if (!o.modules_dir.empty()) return o.modules_dir;
  std::string kernel = request.boot.kernel.empty() ? o.kernel : request.boot.kernel;
  return modules_dir_for_kernel(kernel).value_or("");
}

}  // namespace

LavaTarget::LavaTarget(LavaOptions options) : options_(std::move(options)) {
  if (options_.work_dir.empty()) options_.work_dir = (fs::temp_directory_path() / "kerntune-lava").string();
}

util::Result<LavaTarget::Job> LavaTarget::run_local(const std::string& job_file, const std::string& dir, int seq) {
  Job job;
  // lava-run keeps its scratch under /var/lib/lava/dispatcher/tmp/<job id>:
  // unique per process and trial, so parallel workers do not share it.
  static std::atomic<int> counter{0};
  (void)seq;
  job.id = fmt::format("{}{:05}", static_cast<long>(getpid()), ++counter % 100000);
  std::string out_dir = (fs::path(dir) / "lava-output").string();
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  util::RunOptions ro;
  ro.argv = {options_.lava_run, "--job-id", job.id, "--device", options_.device, "--output-dir", out_dir, job_file};
  ro.merge_stderr = true;
  // LAVA enforces the job's own timeout; this one only guards against a hung lava-run.
  ro.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::seconds(60) + std::chrono::milliseconds(options_.job_timeout.count() > 0 ? options_.job_timeout.count() : 3600000));
  KT_TRY(util::RunResult r, util::run(ro));
  job.log = std::move(r.out);
  lava::JobLog parsed = lava::parse_job_log(job.log);
  job.results = parsed.results;
  if (r.timed_out) job.failure = "lava-run timed out and was killed";
  else if (!parsed.finished_ok) {
    job.failure = parsed.error_type.empty() && parsed.error_msg.empty()
                      ? fmt::format("lava-run {}: {}", r.describe(), guest::tail_lines(job.log, 2, "(no output)"))
                      : fmt::format("LAVA {} error: {}", parsed.error_type, parsed.error_msg);
  }
  return job;
}

util::Result<TrialOutcome> LavaTarget::run_trial(const TrialRequest& request) {
  if (util::stop_requested()) return util::fail("interrupted", util::Error::Kind::interrupted);
  auto t0 = Clock::now();
  int seq = ++jobs_;
  std::string dir = (fs::path(options_.work_dir) / fmt::format("trial-{}-{}", request.seq, seq)).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return util::io_error(fmt::format("cannot create {}: {}", dir, ec.message()));

  // The plan: knob names must map to guest paths, commands must fit the agent's line.
  auto plan = lava::make_plan(request);
  if (!plan) {
    bool knob = plan.error().message.find("command of the trial") == std::string::npos;
    return TrialOutcome::failure(knob ? "apply" : "configure", plan.error().message);
  }
  // The initramfs: the workload's programs and modules, the agent, the plan.
  InitramfsSpec spec;
  if (request.workload) {
    spec.binaries = request.workload->binaries;
    spec.modules = request.workload->modules;
    if (!spec.modules.empty()) spec.modules_release_dir = modules_release_dir(request, options_);
  }
  spec.init_script = lava::init_script();
  spec.extra_files = {{"etc/kerntune/agent", std::string(guest::agent_script())},
                      {"etc/kerntune/measure", lava::measure_script()},
                      {"etc/kerntune/plan", plan->text}};
  auto t_ir = Clock::now();
  auto ir = build_initramfs(spec, (fs::path(dir) / "initramfs").string());
  if (!ir) {
    if (ir.error().kind == util::Error::Kind::interrupted) return std::unexpected(ir.error());
    return TrialOutcome::failure("configure", "cannot build the initramfs: " + ir.error().message);
  }
  double initramfs_s = since(t_ir);

  std::string kernel = request.boot.kernel.empty() ? options_.kernel : request.boot.kernel;
  if (!fs::is_regular_file(kernel))
    return TrialOutcome::failure("boot", fmt::format("kernel image '{}' does not exist", kernel));
  lava::JobSpec js;
  js.job_name = fmt::format("kerntune trial {}", request.seq);
  js.device_type = options_.mode == "local" ? "qemu" : options_.device_type;
  js.cmdline = util::trim(options_.cmdline_base + " " + request.boot.cmdline);
  js.kernel_url = file_url(kernel);
  js.ramdisk_url = file_url(ir->path);
  if (!options_.artifact_dir.empty()) {  // a worker elsewhere fetches them over HTTP
    std::string name = fmt::format("kerntune-{}-{}", static_cast<long>(getpid()), seq);
    fs::create_directories(options_.artifact_dir, ec);
    fs::copy_file(kernel, fs::path(options_.artifact_dir) / (name + ".kernel"), fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::copy_file(ir->path, fs::path(options_.artifact_dir) / (name + ".cpio"), fs::copy_options::overwrite_existing, ec);
    if (ec) return util::io_error(fmt::format("cannot copy the trial's images to {}: {}", options_.artifact_dir, ec.message()));
    js.kernel_url = options_.artifact_url + "/" + name + ".kernel";
    js.ramdisk_url = options_.artifact_url + "/" + name + ".cpio";
  }
  js.boot_timeout = std::chrono::duration_cast<std::chrono::seconds>(options_.boot_timeout);
  js.test_timeout = plan->guest_seconds + std::chrono::seconds(60);
  js.job_timeout = options_.job_timeout.count() > 0
                       ? std::chrono::duration_cast<std::chrono::seconds>(options_.job_timeout)
                       : js.boot_timeout + js.test_timeout + std::chrono::seconds(300);
  js.priority = options_.priority;
  js.tags = options_.tags;
  std::string job_text = lava::job_yaml(js);
  std::string job_file = (fs::path(dir) / "job.yaml").string();
  KT_TRY_STATUS(util::write_file(job_file, job_text));

  util::log_info("lava: trial {} as a {} job ({})", request.seq, options_.mode,
                 options_.mode == "local" ? options_.device : options_.url);
  auto t_job = Clock::now();
  request.stage(options_.mode == "local" ? "LAVA job (lava-run)" : "LAVA job (server)");
  auto job = options_.mode == "local" ? run_local(job_file, dir, seq) : run_server(job_text, dir);
  if (!job) {
    if (job.error().kind == util::Error::Kind::interrupted) return std::unexpected(job.error());
    TrialOutcome o = TrialOutcome::failure("boot", "LAVA did not run the job: " + job.error().message);
    o.artifacts.push_back({"lava-job.yaml", job_text});
    return o;
  }
  double job_s = since(t_job);

  lava::JobLog log = lava::parse_job_log(job->log);
  TrialOutcome out = lava::assemble_outcome(*plan, request, log, job->results, job->failure);
  out.timings["initramfs"] = initramfs_s;
  out.timings["job"] = job_s;
  out.timings["total"] = since(t0);
  out.effective["cmdline"] = js.cmdline;
  out.effective["lava_job"] = job->id;
  out.worker = options_.mode == "local" ? fmt::format("lava-run:{}", job->id)
                                        : fmt::format("{}/scheduler/job/{}", options_.url, job->id);
  out.artifacts.push_back({"lava-job.yaml", job_text});
  out.artifacts.push_back({"lava-job.log", job->log});
  out.artifacts.push_back({"console.log", log.console});
  // The images are copies; the job log and the artifacts keep what matters.
  fs::remove_all(fs::path(dir) / "initramfs", ec);
  util::log_info("lava: trial {} {} in {:.1f} s (job {})", request.seq,
                 out.ok ? "ok" : "failed at " + out.failure_stage, out.timings["total"], job->id);
  return out;
}

}  // namespace kerntune::targets
