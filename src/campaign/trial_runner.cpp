// The one trial runner (include/kerntune/campaign/trial_runner.hpp).
#include "kerntune/campaign/trial_runner.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "kerntune/campaign/kernel_stage.hpp"
#include "kerntune/campaign/realize.hpp"
#include "kerntune/campaign/slurm_executor.hpp"

namespace kerntune::campaign {
namespace fs = std::filesystem;

util::Result<TrialRunner> TrialRunner::create(const Recipe& recipe, Options options) {
  options.workers = std::max(1, options.workers);
  TrialRunner r(recipe, std::move(options));
  if (!recipe.workload.empty()) {
    KT_TRY(auto w, load_recipe_workload(recipe));
    r.workload_ = std::move(w);
  }
  KT_TRY(r.kernel_, KernelStage::create(recipe));
  return r;
}

util::Result<std::unique_ptr<targets::Target>> TrialRunner::make_target(int index) const {
  const Recipe& recipe = *recipe_;
  const int count = options_.workers;
  std::string dir = count == 1 ? options_.work_dir
                               : (fs::path(options_.work_dir) / fmt::format("worker-{}", index)).string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return util::io_error(fmt::format("cannot create work folder '{}': {}", dir, ec.message()));
  targets::TargetContext ctx{recipe.file, recipe.dir, dir, options_.metrics};
  ctx.worker_index = index;
  ctx.worker_count = count;
  ctx.workers_line = recipe.workers_line;
  ctx.workers_column = recipe.workers_column;
  std::unique_ptr<targets::Target> inner;
  if (options_.make_target) {
    KT_TRY(inner, options_.make_target(ctx));
  } else if (recipe.executor.kind == "slurm") {
    KT_TRY(inner, make_slurm_target(recipe, ctx, index));
  } else {
    KT_TRY(inner, recipe.target_spec.make(ctx));
  }
  return inner;
}

targets::TrialRequest TrialRunner::request(const TrialSpec& spec) const {
  const Recipe& recipe = *recipe_;
  const workloads::Workload* w = workload();
  targets::TrialRequest req = realize(recipe.space, spec.assignment, spec.seq);
  req.workload = w;
  req.read_current = spec.read_current;
  req.independent = spec.independent;
  req.repeats = spec.repeats ? *spec.repeats : recipe.repeats > 0 ? recipe.repeats : (w ? w->repeats : 1);
  req.warmup = spec.warmup ? *spec.warmup : recipe.warmup >= 0 ? recipe.warmup : (w ? w->warmup : 0);
  if (!spec.kernel.empty()) req.boot.kernel = spec.kernel;
  req.on_stage = spec.on_stage;
  req.stop_after_repeat = spec.stop_after_repeat;
  return req;
}

util::Result<targets::TrialOutcome> TrialRunner::run(targets::Target& target, const TrialSpec& spec) const {
  if (kernel_ && spec.kernel.empty()) return kernel_->run(spec.assignment, request(spec), target);  // kernel_source:
  return target.run_trial(request(spec));
}

}  // namespace kerntune::campaign
