#include "kerntune/campaign/kernel_stage.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "kerntune/kbuild/builder.hpp"
#include "kerntune/kbuild/kconfig_apply.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::campaign {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxLogArtifact = 512u << 10;

}  // namespace

/// The stage's Builder: the runner's workers share it, and its mutex keeps
/// one build at a time in the cache's work folder.
struct KernelStage::SharedBuilder {
  SharedBuilder(kbuild::Builder b, kbuild::BuilderConfig c) : builder(std::move(b)), config(std::move(c)) {}
  kbuild::Builder builder;
  kbuild::BuilderConfig config;
  std::mutex mutex;

  nlohmann::json metadata() const {
    const auto& s = builder.source();
    const auto& c = config;
    nlohmann::json j{{"tree", s.tree},
                     {"identity", s.identity},
                     {"commit", s.commit.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.commit)},
                     {"dirty", s.dirty},
                     {"tarball_sha256", s.identity.starts_with("tarball:") ? nlohmann::json(s.identity.substr(8))
                                                                           : nlohmann::json(nullptr)},
                     {"compiler", builder.compiler()},
                     {"base", c.base},
                     {"cache_dir", c.cache_dir}};
    if (c.source.kind == kbuild::SourceSpec::Kind::git) {
      j["git"] = c.source.location;
      j["ref"] = c.source.ref.empty() ? "HEAD" : c.source.ref;
    }
    return j;
  }
};

namespace {

util::Error located(const space::Parameter& p, const std::string& message) {
  return util::Error{util::Error::Kind::invalid_input, fmt::format("parameter '{}': {}", p.name, message), p.file,
                     p.line, p.column};
}

/// Every value a kconfig parameter can take must be a value its symbol takes:
/// checked once here, so a bad recipe stops before the campaign exists.
util::Status check_parameters(const space::Space& space, const kbuild::KconfigTree& tree) {
  for (const auto& p : space.parameters()) {
    if (p.domain != space::Domain::kconfig) continue;
    std::vector<space::Value> probes = {p.default_value};
    if (p.type == space::Type::choice || p.type == space::Type::tristate)
      for (const auto& v : p.values) probes.emplace_back(v);
    if (p.type == space::Type::integer) {
      probes.emplace_back(static_cast<long long>(p.lo));
      probes.emplace_back(static_cast<long long>(p.hi));
    }
    if (p.type == space::Type::real)
      return util::fail(located(p, "a Kconfig symbol cannot be real-valued (use int, bool, tristate or choice)"));
    for (const auto& v : probes) {
      auto lines = kbuild::proposal_lines(tree, {{p.name, v}});
      if (!lines) return util::fail(located(p, lines.error().message));
    }
  }
  return {};
}

std::string log_tail(const std::string& path) {
  if (path.empty()) return {};
  auto text = util::read_file(path);
  if (!text) return {};
  if (text->size() <= kMaxLogArtifact) return *text;
  return "[… " + std::to_string(text->size() - kMaxLogArtifact) + " earlier bytes in " + path + "]\n" +
         text->substr(text->size() - kMaxLogArtifact);
}

}  // namespace

util::Result<targets::TrialOutcome> KernelStage::run(const space::Assignment& assignment,
                                                     const targets::TrialRequest& request,
                                                     targets::Target& target) const {
  // A run that names its own kernel image (a gate side `kernel PATH`) boots it as given.
  if (!request.boot.kernel.empty()) return target.run_trial(request);
  space::Assignment kconfig;
  for (const auto& p : space_->parameters())
    if (p.domain == space::Domain::kconfig && assignment.contains(p.name)) kconfig[p.name] = assignment.at(p.name);

  util::Result<kbuild::BuildOutcome> built = [&] {
    request.stage("waiting for the kernel builder");
    std::lock_guard lock(shared_->mutex);
    request.stage("building kernel");
    return shared_->builder.build(kconfig);
  }();
  if (!built) return std::unexpected(built.error());  // bad input, infrastructure, or a stop request
  const kbuild::BuildOutcome& b = *built;

  targets::TrialOutcome out;
  if (b.ok) {
    targets::TrialRequest req = request;
    req.boot.kernel = b.kernel_image;
    KT_TRY(out, target.run_trial(req));
  } else {
    out = targets::TrialOutcome::failure(kbuild::to_string(b.stage), b.reason);
    util::log_warn("kconfig: trial {}: {} failed: {}", request.seq, kbuild::to_string(b.stage), b.reason);
  }
  for (const auto& [name, value] : b.effective) out.effective[name] = space::to_json(value);
  if (!b.not_stuck.empty()) out.effective["kconfig_not_stuck"] = b.not_stuck;
  out.timings["build"] = b.seconds;
  out.timings["cache_hit"] = b.cache_hit ? 1.0 : 0.0;
  out.timings["kernel_builds"] = b.cache_hit || b.log.empty() ? 0.0 : 1.0;
  if (b.ccache_hits >= 0) {  // counts, beside the build's seconds (docs/kconfig.md, "ccache")
    out.timings["ccache_hits"] = b.ccache_hits;
    out.timings["ccache_misses"] = b.ccache_misses;
  }
  if (std::string log = log_tail(b.log); !log.empty()) out.artifacts.push_back({"build.log", std::move(log)});
  if (!b.config_path.empty())
    if (auto cfg = util::read_file(b.config_path)) out.artifacts.push_back({"kernel.config", *cfg});
  return out;
}

util::Result<std::shared_ptr<const KernelStage>> KernelStage::create(const Recipe& recipe) {
  const space::Parameter* first = nullptr;
  for (const auto& p : recipe.space.parameters())
    if (p.domain == space::Domain::kconfig) {
      first = &p;
      break;
    }
  if (!recipe.kernel_build) {
    if (first)
      return util::fail(located(*first, "kconfig parameters need a kernel to build: add 'kernel_source:' to the "
                                        "recipe (docs/kconfig.md)"));
    return std::shared_ptr<const KernelStage>();
  }
  const kbuild::BuilderConfig& config = *recipe.kernel_build;
  auto b = kbuild::Builder::create(
      config, [&](const kbuild::KconfigTree& tree) { return check_parameters(recipe.space, tree); });
  if (!b) {
    util::Error e = b.error();
    if (e.file.empty()) {  // the source or its Kconfig, not a located recipe fault
      e.message = "kernel_source: " + e.message;
      e.file = recipe.file;
    }
    return util::fail(std::move(e));
  }
  std::shared_ptr<KernelStage> stage(new KernelStage(recipe.space));
  stage->shared_ = std::make_shared<SharedBuilder>(std::move(*b), config);
  KT_TRY_STATUS(check_parameters(recipe.space, stage->shared_->builder.kconfig()));
  // (prepare_source warns about a dirty git tree; the metadata records it)
  util::log_info("kconfig: kernel source {}", stage->shared_->builder.source().describe());
  return std::shared_ptr<const KernelStage>(std::move(stage));
}

nlohmann::json KernelStage::metadata() const { return shared_->metadata(); }

}  // namespace kerntune::campaign
