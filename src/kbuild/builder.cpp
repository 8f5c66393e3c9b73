#include "kerntune/kbuild/builder.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kerntune/kbuild/kconfig_apply.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/stop.hpp"
#include "kerntune/util/subprocess.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::kbuild {

namespace fs = std::filesystem;

std::string to_string(BuildOutcome::Stage s) { return s == BuildOutcome::Stage::configure ? "configure" : "build"; }

namespace {

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/kerntune/kernels";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/kerntune/kernels";
  return "/tmp/kerntune-kernels";
}

std::string resolve_path(const std::string& p, const std::string& dir) {
  if (p.starts_with("~/")) {
    const char* h = std::getenv("HOME");
    return std::string(h ? h : "") + p.substr(1);
  }
  fs::path x(p);
  return (x.is_absolute() ? x : fs::path(dir) / x).lexically_normal().string();
}

std::string tail_errors(const std::string& out) {
  std::vector<std::string> hits;
  for (const auto& l : util::split(out, '\n'))
    if (l.find("error") != std::string::npos || l.find("Error") != std::string::npos) hits.push_back(util::trim(l));
  std::string r;
  std::size_t from = hits.size() > 4 ? hits.size() - 4 : 0;
  for (std::size_t i = from; i < hits.size(); ++i) r += (r.empty() ? "" : " | ") + hits[i];
  if (r.empty()) r = util::trim(out.substr(out.size() > 300 ? out.size() - 300 : 0));
  return r.substr(0, 1000);
}

std::string now_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

util::Result<BuilderConfig> parse_builder_config(const YAML::Node& node, const std::string& file,
                                                 const std::string& dir) {
  if (!node || !node.IsMap()) return util::fail_at(node, file, "kernel_source: expected a mapping");
  KT_TRY_STATUS(util::check_keys(node, file,
                                 {"path", "git", "ref", "tarball", "base", "fragments", "options", "cache_dir",
                                  "cache_size", "build_timeout", "jobs", "nice", "ccache", "arch", "target"},
                                 "kernel_source"));
  BuilderConfig c;
  int kinds = 0;
  for (const char* k : {"path", "git", "tarball"}) {
    if (!node[k]) continue;
    ++kinds;
    KT_TRY(std::string v, util::as_string(node[k], file, k));
    c.source.location = resolve_path(v, dir);
    c.source.kind = std::string(k) == "path" ? SourceSpec::Kind::path
                    : std::string(k) == "git" ? SourceSpec::Kind::git : SourceSpec::Kind::tarball;
  }
  if (kinds != 1) return util::fail_at(node, file, "kernel_source: give exactly one of path, git, tarball");
  if (node["ref"]) {
    if (c.source.kind != SourceSpec::Kind::git) return util::fail_at(node["ref"], file, "ref: only with git:");
    KT_TRY(c.source.ref, util::as_string(node["ref"], file, "ref"));
  }
  if (node["base"]) {
    KT_TRY(std::string b, util::as_string(node["base"], file, "base"));
    if (b == "tinyconfig" || b == "defconfig" || b == "allnoconfig" || b == "alldefconfig") {
      c.base = b;
    } else {
      c.base = resolve_path(b, dir);
      if (!fs::exists(c.base))
        return util::fail_at(node["base"], file,
                             fmt::format("base: '{}' is neither tinyconfig/defconfig nor an existing .config file", b));
    }
  }
  if (node["fragments"]) {
    if (!node["fragments"].IsSequence()) return util::fail_at(node["fragments"], file, "fragments: expected a list");
    for (const auto& f : node["fragments"]) {
      KT_TRY(std::string v, util::as_string(f, file, "fragments"));
      std::string p = resolve_path(v, dir);
      if (!fs::exists(p)) return util::fail_at(f, file, fmt::format("fragment '{}' does not exist", v));
      c.fragments.push_back(p);
    }
  }
  if (node["options"]) {
    if (!node["options"].IsMap()) return util::fail_at(node["options"], file, "options: expected SYMBOL: value pairs");
    KT_TRY_STATUS(util::check_unique_keys(node["options"], file, "options"));
    for (const auto& kv : node["options"]) {
      KT_TRY(std::string k, util::as_string(kv.first, file, "options"));
      KT_TRY(std::string v, util::as_string(kv.second, file, k));
      if (k.starts_with("CONFIG_")) k = k.substr(7);
      // YAML reads bare y/n as booleans in some schemas; keep Kconfig's letters
      if (v == "true") v = "y";
      if (v == "false") v = "n";
      c.options[k] = v;
    }
  }
  c.cache_dir = default_cache_dir();
  if (node["cache_dir"]) {
    KT_TRY(std::string v, util::as_string(node["cache_dir"], file, "cache_dir"));
    c.cache_dir = resolve_path(v, dir);
  }
  if (node["cache_size"]) {
    KT_TRY(std::string v, util::as_string(node["cache_size"], file, "cache_size"));
    auto s = parse_size(v);
    if (!s) return util::fail_at(node["cache_size"], file, "cache_size: " + s.error().message);
    c.cache_size = *s;
  }
  if (node["build_timeout"]) {
    KT_TRY(std::string v, util::as_string(node["build_timeout"], file, "build_timeout"));
    auto d = util::parse_duration(v);
    if (!d) return util::fail_at(node["build_timeout"], file, "build_timeout: " + d.error().message);
    c.build_timeout = *d;
  }
  if (node["jobs"]) {
    KT_TRY(long long j, util::as_int(node["jobs"], file, "jobs"));
    if (j < 0 || j > 1024) return util::fail_at(node["jobs"], file, "jobs: expected 0 (all CPUs) to 1024");
    c.jobs = static_cast<int>(j);
  }
  if (node["nice"]) {
    KT_TRY(long long n, util::as_int(node["nice"], file, "nice"));
    if (n < 0 || n > 19) return util::fail_at(node["nice"], file, "nice: expected 0 to 19");
    c.nice = static_cast<int>(n);
  }
  if (node["ccache"]) {
    KT_TRY(c.ccache, util::as_bool(node["ccache"], file, "ccache"));
  }
  if (node["arch"]) {
    KT_TRY(c.arch, util::as_string(node["arch"], file, "arch"));
  }
  if (node["target"]) {
    KT_TRY(c.target, util::as_string(node["target"], file, "target"));
  }
  return c;
}

util::Result<Builder> Builder::create(const BuilderConfig& config,
                                       const std::function<util::Status(const KconfigTree&)>& check) {
  Builder b(config, BuildCache(config.cache_dir, config.cache_size));
  KT_TRY(b.source_, prepare_source(config.source, config.cache_dir));
  KconfigOptions ko;
  ko.source_dir = b.source_.tree;
  ko.arch = config.arch;
  ko.srcarch = (config.arch == "x86_64" || config.arch == "i386" || config.arch == "x86") ? "x86" : config.arch;
  KT_TRY(KconfigTree tree, KconfigTree::parse(ko));
  b.tree_ = std::make_shared<KconfigTree>(std::move(tree));
  if (check) KT_TRY_STATUS(check(*b.tree_));
  for (const auto& [k, v] : config.options) {
    int id = b.tree_->find(k);
    if (id < 0 || !b.tree_->symbol(id).defined())
      return util::invalid_input(fmt::format("kernel_source.options: unknown Kconfig symbol '{}'", k));
  }
  util::RunOptions cc;
  cc.argv = {"gcc", "--version"};
  KT_TRY(util::RunResult ccr, util::run(cc));
  b.compiler_ = util::trim(util::split(ccr.out, '\n').front());

  // The base configuration, made once per (source, base, fragments, options, compiler).
  std::string fingerprint = b.source_.identity + "\n" + config.base + "\n" + b.compiler_ + "\n" + config.arch;
  if (fs::exists(config.base)) {
    KT_TRY(std::string t, util::read_file(config.base));
    fingerprint += t;
  }
  for (const auto& f : config.fragments) {
    KT_TRY(std::string t, util::read_file(f));
    fingerprint += "\n" + t;
  }
  for (const auto& [k, v] : config.options) fingerprint += "\n" + k + "=" + v;
  std::string base_key = util::sha256_hex(fingerprint).substr(0, 24);
  fs::path base_file = fs::path(config.cache_dir) / "bases" / (base_key + ".config");
  if (fs::exists(base_file)) {
    KT_TRY(b.base_, ConfigFile::read(base_file.string()));
  } else {
    fs::path work = fs::path(config.cache_dir) / "work" / ("base-" + base_key);
    std::error_code ec;
    fs::create_directories(work, ec);
    std::vector<std::string> fragments = config.fragments;
    if (!config.options.empty()) {
      ConfigFile inline_frag;
      for (const auto& [k, v] : config.options) {
        int id = b.tree_->find(k);
        inline_frag.set(k, v, b.tree_->symbol(id).type == SymType::string);
      }
      std::string p = (work / "options.config").string();
      KT_TRY_STATUS(inline_frag.write(p));
      fragments.push_back(p);
    }
    MakeOptions mk;
    mk.source_dir = b.source_.tree;
    mk.arch = config.arch;
    mk.nice = config.nice;
    util::log_info("kconfig: making the {} base configuration in {}", config.base, work.string());
    KT_TRY(b.base_, make_base_config(mk, config.base, fragments, (work / "obj").string()));
    fs::create_directories(base_file.parent_path(), ec);
    KT_TRY_STATUS(b.base_.write(base_file.string()));
    fs::remove_all(work, ec);
  }
  return b;
}

util::Result<BuildOutcome> Builder::configure(const space::Assignment& values) {
  BuildOutcome out;
  out.proposed = values;
  auto t0 = std::chrono::steady_clock::now();
  MakeOptions mk;
  mk.source_dir = source_.tree;
  mk.arch = config_.arch;
  mk.nice = config_.nice;
  std::string src_key = util::sha256_hex(source_.identity).substr(0, 16);
  std::string dir = (fs::path(config_.cache_dir) / "work" / src_key / "configure").string();
  if (auto lines = proposal_lines(*tree_, values); !lines) return std::unexpected(lines.error());  // bad input
  auto res = resolve_proposal(*tree_, mk, base_, values, dir);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!res) {
    if (res.error().kind == util::Error::Kind::invalid_input || util::stop_requested()) {
      if (util::stop_requested()) return util::fail("stopped while configuring", util::Error::Kind::interrupted);
      return std::unexpected(res.error());
    }
    out.ok = false;
    out.stage = BuildOutcome::Stage::configure;
    out.reason = res.error().message;
    return out;
  }
  out.ok = true;
  out.effective = res->effective;
  out.not_stuck = res->not_stuck;
  out.config_hash = res->config_hash;
  out.config_path = (fs::path(dir) / ".config").string();
  for (const auto& n : out.not_stuck) util::log_info("kconfig: did not stick: {}", n);
  return out;
}

CcacheCounts parse_ccache_stats_log(std::string_view log) {
  CcacheCounts c;
  for (const auto& raw : util::split(log, '\n')) {
    std::string line = util::trim(raw);
    if (line == "direct_cache_hit" || line == "preprocessed_cache_hit") ++c.hits;
    else if (line == "cache_miss") ++c.misses;
  }
  return c;
}

util::Result<BuildOutcome> Builder::build(const space::Assignment& values) {
  auto t0 = std::chrono::steady_clock::now();
  KT_TRY(BuildOutcome out, configure(values));
  if (!out.ok) return out;
  std::string key = BuildCache::key(source_.identity, out.config_hash, compiler_);
  if (auto hit = cache_.lookup(key)) {
    out.cache_hit = true;
    out.kernel_image = *hit;
    out.config_path = (fs::path(*hit).parent_path() / "config").string();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  }
  // Build in one persistent O= folder per source: make rebuilds only what the
  // new .config touches, and ccache serves the rest.
  std::string src_key = util::sha256_hex(source_.identity).substr(0, 16);
  fs::path obj = fs::path(config_.cache_dir) / "work" / src_key / "obj";
  std::error_code ec;
  fs::create_directories(obj, ec);
  fs::copy_file(out.config_path, obj / ".config", fs::copy_options::overwrite_existing, ec);
  if (ec) return util::io_error(fmt::format("cannot write {}: {}", (obj / ".config").string(), ec.message()));
  fs::path logs = fs::path(config_.cache_dir) / "logs";
  fs::create_directories(logs, ec);
  out.log = (logs / (now_stamp() + "-" + key.substr(0, 12) + ".log")).string();
  std::ofstream log(out.log);
  MakeOptions mk;
  mk.source_dir = source_.tree;
  mk.arch = config_.arch;
  mk.nice = config_.nice;
  mk.timeout = config_.build_timeout;
  int jobs = config_.jobs > 0 ? config_.jobs : static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  mk.extra = {fmt::format("-j{}", jobs)};
  // ccache's counters of this build alone: its own stats log (the shared
  // cache's totals mix in every other build and compiler use on the host).
  const bool ccache = config_.ccache && util::which("ccache");
  const std::string stats_log = out.log + ".ccache";
  if (ccache) {
    mk.extra.push_back("CC=ccache gcc");
    mk.env["CCACHE_STATSLOG"] = stats_log;
  }
  mk.on_output = [&log](std::string_view chunk) {
    log.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    log.flush();  // the log can be followed while make runs
  };
  util::log_info("kconfig: building {} ({}), log {}", config_.target, out.config_hash.substr(0, 12), out.log);
  KT_TRY(util::RunResult rr, run_make(mk, obj.string(), {config_.target}));
  log.close();
  ++builds_;
  if (ccache) {
    auto text = util::read_file(stats_log);
    CcacheCounts c = text ? parse_ccache_stats_log(*text) : CcacheCounts{};
    out.ccache_hits = c.hits;
    out.ccache_misses = c.misses;
    fs::remove(stats_log, ec);
    util::log_info("kconfig: ccache served {} of {} compilations of this build", c.hits, c.hits + c.misses);
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (util::stop_requested()) return util::fail("stopped while building the kernel", util::Error::Kind::interrupted);
  if (!rr.ok()) {
    out.ok = false;
    out.stage = BuildOutcome::Stage::build;
    out.reason = rr.timed_out ? rr.describe() : rr.describe() + ": " + tail_errors(rr.out);
    return out;
  }
  fs::path image = obj / "arch" / "x86" / "boot" / "bzImage";
  if (config_.arch != "x86_64" && config_.arch != "i386" && config_.arch != "x86")
    image = obj / "arch" / config_.arch / "boot" / config_.target;
  if (!fs::exists(image)) {
    out.ok = false;
    out.stage = BuildOutcome::Stage::build;
    out.reason = "make succeeded but produced no " + image.string();
    return out;
  }
  nlohmann::json meta = {{"source", source_.identity}, {"commit", source_.commit},  {"dirty", source_.dirty},
                         {"config_sha256", out.config_hash}, {"compiler", compiler_}, {"seconds", out.seconds},
                         {"built", now_stamp()}};
  if (out.ccache_hits >= 0) meta["ccache"] = {{"hits", out.ccache_hits}, {"misses", out.ccache_misses}};
  KT_TRY(out.kernel_image, cache_.insert(key, image.string(), (obj / ".config").string(), meta.dump(2)));
  out.config_path = (fs::path(out.kernel_image).parent_path() / "config").string();
  return out;
}

}  // namespace kerntune::kbuild
