// `kerntune init`'s recipe: choices checked against the shipped files, the
// recipe text, and the machine's current knob values (docs/cli.md, "init").
#include "kerntune/campaign/starter.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "kerntune/space/effective.hpp"
#include "kerntune/targets/guest_channel.hpp"
#include "kerntune/targets/guest_protocol.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::campaign {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTargets = {"qemu", "libvirt", "ssh", "command"};

/// One YAML scalar, double-quoted and escaped by the emitter: whatever the
/// text holds (newlines, quotes, '#', ': '), it stays one string value.
std::string q(const std::string& text) {
  YAML::Emitter e;
  e << YAML::DoubleQuoted << text;
  return e.c_str();
}

/// A flow list of quoted strings: ["a", "b"].
std::string q_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + q(items[i]);
  return out + "]";
}

/// A value of a parameter's type as a YAML scalar the space parser reads back as that type.
std::string yaml_value(const space::Value& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const long long* i = std::get_if<long long>(&v)) return std::to_string(*i);
  if (const double* d = std::get_if<double>(&v)) return fmt::format("{}", *d);  // shortest round trip
  return q(std::get<std::string>(v));
}

/// Text for a comment line: one line, printable, at most `max` bytes.
std::string comment_text(std::string_view text, std::size_t max = 400) {
  std::string flat(text);
  for (char& c : flat)
    if (util::is_control(c)) c = ' ';  // newlines and tabs before printable() would escape them
  std::string out;
  for (char c : util::printable(flat)) {
    const bool space = c == ' ' || c == '\t' || util::is_control(c);
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  out = util::trim(out);
  if (out.size() > max) out = out.substr(0, max) + "…";
  return out;
}

/// `# text`, wrapped at ~78 columns, each line prefixed by `indent`.
std::string comment_block(const std::string& text, const std::string& indent = "") {
  std::string out, line;
  for (const auto& word : util::split(comment_text(text, 2000), ' ')) {
    if (word.empty()) continue;
    if (!line.empty() && indent.size() + 2 + line.size() + 1 + word.size() > 78) {
      out += indent + "# " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += indent + "# " + line + "\n";
  return out;
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

bool inside(const fs::path& dir, const fs::path& root) {
  auto d = fs::weakly_canonical(dir), r = fs::weakly_canonical(root);
  return std::mismatch(r.begin(), r.end(), d.begin(), d.end()).first == r.end();
}

/// A shipped file as a recipe in `recipe_dir` names it when the bare name does not find it.
std::string path_from(const fs::path& file, const fs::path& recipe_dir, const fs::path& root) {
  if (inside(recipe_dir, root)) return fs::relative(file, recipe_dir).string();
  return fs::weakly_canonical(file).string();
}

/// The search-space reference: the loader tries RECIPE_DIR/F, then RECIPE_DIR/../search-spaces/F.
std::string space_ref(const Catalog::SpaceFile& s, const fs::path& dir, const fs::path& root) {
  const fs::path beside = dir / s.file;
  if (fs::exists(beside) ? same_file(beside, s.path) : same_file(dir / ".." / "search-spaces" / s.file, s.path))
    return s.file;
  return path_from(s.path, dir, root);
}

/// The workload reference: the loader tries, for a bare name, RECIPE_DIR/workloads,
/// RECIPE_DIR and RECIPE_DIR/../recipes/workloads (each DIR/workloads/ when it
/// exists, else DIR), NAME.yaml then NAME.yml.
std::string workload_ref(const workloads::Workload& w, const fs::path& dir, const fs::path& root) {
  for (const fs::path& d : {dir / "workloads", dir, dir / ".." / "recipes" / "workloads"}) {
    std::error_code ec;
    const fs::path wd = fs::is_directory(d / "workloads", ec) ? d / "workloads" : d;
    for (const char* ext : {".yaml", ".yml"}) {
      const fs::path f = wd / (w.name + ext);
      if (!fs::exists(f, ec)) continue;
      if (same_file(f, w.file)) return w.name;
      return path_from(w.file, dir, root);  // another file of that name comes first
    }
  }
  return path_from(w.file, dir, root);
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& options) {
  if (auto c = util::closest(word, options)) return fmt::format(" (did you mean '{}'?)", *c);
  return {};
}

bool kernel_target(const std::string& kind) { return kind == "qemu" || kind == "libvirt" || kind == "ssh"; }

/// The chosen files' parameters kept by `only` for `file` (empty: all).
std::vector<std::string> only_for(const StarterChoices& c, const Catalog::SpaceFile& s) {
  std::vector<std::string> out;
  for (const auto& n : c.only)
    if (s.space.find(n)) out.push_back(n);
  return out;
}

}  // namespace

const Catalog::SpaceFile* Catalog::find_space(const std::string& file) const {
  for (const auto& s : spaces)
    if (s.file == file) return &s;
  return nullptr;
}

const workloads::Workload* Catalog::find_workload(const std::string& name) const {
  for (const auto& w : workloads)
    if (w.name == name) return &w;
  return nullptr;
}

std::optional<std::string> find_project_root(const std::vector<std::string>& start_dirs) {
  for (const auto& start : start_dirs) {
    if (start.empty()) continue;
    std::error_code ec;
    fs::path d = fs::weakly_canonical(start, ec);
    if (ec) continue;
    for (;; d = d.parent_path()) {
      std::error_code e1, e2;
      if (fs::is_directory(d / "search-spaces", e1) && fs::is_directory(d / "recipes" / "workloads", e2))
        return d.string();
      if (d == d.root_path() || d.empty() || d == d.parent_path()) break;
    }
  }
  return std::nullopt;
}

util::Result<Catalog> load_catalog(const std::string& root) {
  Catalog c;
  c.root = fs::weakly_canonical(root).string();
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(fs::path(c.root) / "search-spaces", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".yaml" && it->is_regular_file(ec)) files.push_back(it->path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    KT_TRY(space::Space s, space::Space::load_file(f.string()));
    c.spaces.push_back({f.filename().string(), f.string(), std::move(s)});
  }
  const std::string wdir = (fs::path(c.root) / "recipes" / "workloads").string();
  for (const auto& name : workloads::available_workloads({wdir})) {
    KT_TRY(workloads::Workload w, workloads::load_workload(name, {wdir}));
    c.workloads.push_back(std::move(w));
  }
  if (c.spaces.empty() || c.workloads.empty())
    return util::io_error(fmt::format("{} holds no search spaces (search-spaces/*.yaml) or no workloads "
                                      "(recipes/workloads/*.yaml)", c.root));
  return c;
}

util::Status check_choices(const StarterChoices& c, const Catalog& catalog) {
  if (std::find(kTargets.begin(), kTargets.end(), c.target) == kTargets.end())
    return util::invalid_input(fmt::format("unknown target '{}'{}: choose qemu, libvirt, ssh or command", c.target,
                                           did_you_mean(c.target, kTargets)));
  if (c.target == "ssh" && c.ssh_address.empty())
    return util::invalid_input("the ssh target needs a host: --host [USER@]ADDRESS[:PORT]");
  if (c.target == "command" && c.argv.empty())
    return util::invalid_input("the command target needs the program to run: kerntune init --target command … -- PROGRAM ARGS…");
  if (c.target != "command" && !c.argv.empty())
    return util::invalid_input(fmt::format("a program to run (-- {} …) is only for --target command", c.argv.front()));
  if (c.target != "ssh" && (!c.ssh_address.empty() || !c.ssh_key.empty()))
    return util::invalid_input("--host and --ssh-key are only for --target ssh");
  if (c.baseline_from_target && c.target != "ssh")
    return util::invalid_input("--from-target reads an ssh host's values: it is only for --target ssh (use --from-host for this machine)");
  if (c.baseline_from_target && !c.baseline.empty())
    return util::invalid_input("choose one baseline: --from-host (this machine's values now) or --from-target (the ssh host's, read at trial 0)");

  std::vector<std::string> workload_names;
  for (const auto& w : catalog.workloads) workload_names.push_back(w.name);
  const workloads::Workload* workload = nullptr;
  if (kernel_target(c.target)) {
    workload = catalog.find_workload(c.workload);
    if (!workload)
      return util::invalid_input(fmt::format("unknown workload '{}'{}; shipped: {} (kerntune init --list)", c.workload,
                                             did_you_mean(c.workload, workload_names), fmt::join(workload_names, ", ")));
  } else if (!c.workload.empty()) {
    return util::invalid_input(fmt::format("the command target measures its own program: --workload {} is only for qemu and ssh",
                                           c.workload));
  }

  std::vector<std::string> space_names;
  for (const auto& s : catalog.spaces) space_names.push_back(s.file);
  if (c.spaces.empty()) return util::invalid_input("choose at least one search space (--space FILE; kerntune init --list)");
  std::set<std::string> seen;
  std::vector<std::string> params;  // of the chosen files
  for (const auto& f : c.spaces) {
    const auto* s = catalog.find_space(f);
    if (!s)
      return util::invalid_input(fmt::format("unknown search space '{}'{}; shipped: {}", f, did_you_mean(f, space_names),
                                             fmt::join(space_names, ", ")));
    if (!seen.insert(f).second) return util::invalid_input(fmt::format("search space '{}' is chosen twice", f));
    for (const auto& p : s->space.parameters()) params.push_back(p.name);
  }
  for (const auto& n : c.only)
    if (std::find(params.begin(), params.end(), n) == params.end())
      return util::invalid_input(fmt::format("--only '{}' is not a parameter of the chosen search space(s) {}{}", n,
                                             fmt::join(c.spaces, ", "), did_you_mean(n, params)));

  if (c.objectives.empty() || c.objectives.front().direction.empty())
    return util::invalid_input("the first objective needs a metric and a direction (--metric M --direction minimize|maximize)");
  std::vector<std::string> metrics;
  if (workload)
    for (const auto& m : workload->metrics) metrics.push_back(m.name);
  for (const auto& o : c.objectives) {
    if (!workloads::valid_metric_name(o.metric))
      return util::invalid_input(fmt::format("'{}' is not a metric name (1-128 of A-Z a-z 0-9 _ . -)", util::printable(o.metric)));
    if (workload && !util::starts_with(o.metric, "sys.") &&
        std::find(metrics.begin(), metrics.end(), o.metric) == metrics.end())
      return util::invalid_input(fmt::format("workload '{}' has no metric '{}'{}; its metrics: {} (and the sys.* metrics of "
                                             "docs/objectives.md)", workload->name, o.metric, did_you_mean(o.metric, metrics),
                                             fmt::join(metrics, ", ")));
    if (!o.direction.empty() && o.direction != "minimize" && o.direction != "maximize")
      return util::invalid_input(fmt::format("unknown direction '{}'{}: minimize or maximize", o.direction,
                                             did_you_mean(o.direction, {"minimize", "maximize"})));
    if (o.direction.empty() && o.limit.empty())
      return util::invalid_input(fmt::format("metric '{}' needs a direction or a limit", o.metric));
  }
  if (c.trials < 1) return util::invalid_input(fmt::format("the budget must be at least 1 trial, got {}", c.trials));
  return {};
}

std::string render_starter_recipe(const StarterChoices& c, const Catalog& catalog, const std::string& recipe_dir) {
  const fs::path dir(recipe_dir), root(catalog.root);
  const workloads::Workload* workload = kernel_target(c.target) ? catalog.find_workload(c.workload) : nullptr;
  std::string y;
  y += "# Written by `kerntune init` (docs/cli.md, \"init\"). Every key is documented in\n"
       "# docs/recipes.md; edit freely. Run (or resume) it with\n"
       "#   kerntune tune THIS-FILE --db kerntune.db\n"
       "# and read the result with `kerntune best --db kerntune.db`.\n";
  if (!c.name.empty()) y += "name: " + q(c.name) + "\n";
  y += "seed: 0   # every proposal is a function of the seed and the trials so far\n\n";

  y += "# What to tune: shipped search spaces (search-spaces/, docs/search-spaces-shipped.md).\n";
  y += "search_spaces:\n";
  for (const auto& f : c.spaces) {
    const auto& s = *catalog.find_space(f);
    auto only = only_for(c, s);
    y += comment_block(fmt::format("{}: {} ({} of its {} parameters)", s.file, s.space.description(),
                                   only.empty() ? s.space.size() : only.size(), s.space.size()), "  ");
    y += "  - file: " + q(space_ref(s, dir, root)) + "\n";
    if (!only.empty()) y += "    only: " + q_list(only) + "\n";
  }

  if (c.baseline_from_target) {
    y += "\n# Trial 0 measures the ssh host as it runs and takes the values it reads back\n"
         "# (sysctl and sysfs knobs; boot parameters keep their defaults) as the baseline\n"
         "# (docs/recipes.md, \"Baseline\").\n"
         "baseline: target\n";
  }
  if (!c.baseline.empty() || !c.baseline_notes.empty()) {
    y += "\n";
    const std::string who = c.baseline_source.empty() ? std::string("this machine") : c.baseline_source;
    if (!c.baseline.empty())
      y += comment_block(fmt::format("The baseline (trial 0) is what {} ran when this file was written: each default "
                                     "below is its value there (docs/recipes.md, \"Overrides\").", who));
    else
      y += comment_block(fmt::format("The baseline (trial 0): {} ran the search spaces' defaults for every parameter "
                                     "read when this file was written.", who));
    for (const auto& n : c.baseline_notes) y += comment_block("left at its default: " + n);
    if (!c.baseline.empty()) {
      y += "override:\n";
      for (const auto& [name, value] : c.baseline) y += "  " + q(name) + ": {default: " + yaml_value(value) + "}\n";
    }
  }

  y += "\n";
  if (c.target == "qemu" || c.target == "libvirt") {
    bool swap = false;
    if (workload)
      for (const auto& step : workload->setup)
        swap = swap || std::find(step.begin(), step.end(), "/dev/vda") != step.end();
    if (c.target == "qemu")
      y += "# Each trial boots a QEMU guest (docs/qemu-target.md). The kernel: $KERNTUNE_KERNEL, or\n"
           "# .cache/kernel/vmlinuz in this folder or a parent (scripts/fetch-kernel), or set kernel: PATH.\n"
           "target:\n"
           "  kind: qemu\n";
    else
      y += "# Each boot is a transient libvirt domain (docs/libvirt-target.md; libvirtd: scripts/libvirt-start).\n"
           "# The kernel: $KERNTUNE_KERNEL, or .cache/kernel/vmlinuz (scripts/fetch-kernel), or set kernel: PATH.\n"
           "target:\n"
           "  kind: libvirt\n"
           "  uri: qemu:///system\n";
    y += "  memory: 512M\n"
         "  cpus: 1              # one vCPU gives the steadiest timings under TCG\n"
         "  boot_timeout: 120s\n";
    if (swap) y += "  swap_disk: 256M     # the workload makes /dev/vda swap\n";
  } else if (c.target == "ssh") {
    y += "# Trials run on a real host over SSH; a trial that changes the kernel command line\n"
         "# kexecs it (docs/ssh-target.md). The user must write /proc/sys and run kexec.\n"
         "target:\n"
         "  kind: ssh\n"
         "  hosts:\n"
         "    - address: " + q(c.ssh_address) + "\n"
         "      user: " + q(c.ssh_user) + "\n";
    if (c.ssh_port != 22) y += fmt::format("      port: {}\n", c.ssh_port);
    if (!c.ssh_key.empty()) y += "      key: " + q(c.ssh_key) + "\n";
    y += "  # kernel: /path/to/vmlinuz   # uploaded and kexec'd when a trial needs a boot\n";
  } else {
    y += "# Each trial runs this program once, without a shell: it reads the parameters from the\n"
         "# JSON file named by $KERNTUNE_PARAMS and prints `KERNTUNE_METRIC <name> <value>` lines\n"
         "# (docs/command-target.md).\n"
         "target:\n"
         "  kind: command\n"
         "  argv: " + q_list(c.argv) + "\n"
         "  timeout: 10m\n";
  }

  if (workload) {
    y += "\n";
    y += comment_block(fmt::format("{}: {}", workload->name, workload->description));
    y += "workload: " + q(workload_ref(*workload, dir, root)) + "\n";
  }

  y += "\n# The first entry is optimized; an entry with a limit must keep it (docs/recipes.md).\n";
  y += "objectives:\n";
  for (const auto& o : c.objectives) {
    std::string entry = "  - {metric: " + q(o.metric);
    if (!o.direction.empty()) entry += ", direction: " + o.direction;
    if (!o.limit.empty()) entry += ", limit: " + q(o.limit);
    entry += "}";
    if (workload)
      if (const auto* m = workload->find_metric(o.metric); m && !m->unit.empty())
        entry += "   # " + comment_text(m->unit, 60);
    y += entry + "\n";
  }
  y += "\nbudget:\n";
  y += fmt::format("  trials: {}   # the baseline included\n", c.trials);
  y += "# optimizer: {kind: bo}   # the default; also sobol, random\n";
  if (kernel_target(c.target))
    y += "# noise: {baseline_every: 5, confirm_top: 2, confirm_rounds: 3}   # docs/recipes.md, \"Drift correction\"\n";
  return y;
}

HostValues read_host_values(const space::Space& space, const std::string& root) {
  HostValues out;
  const fs::path r(root.empty() ? "/" : root);
  auto file = [&](const std::string& abs) { return (r / fs::path(abs).relative_path()).string(); };
  std::optional<std::vector<std::string>> cmdline;  // the words of /proc/cmdline, read once
  auto accept = [&](const space::Parameter& p, const nlohmann::json& reported, const std::string& where) {
    auto v = space::parse_reported(p, reported);
    if (!v) {
      const bool listed = p.type == space::Type::choice || p.type == space::Type::tristate;
      out.notes.push_back(fmt::format("{} ({} holds '{}', {})", p.name, where,
                                      comment_text(reported.is_string() ? reported.get<std::string>() : reported.dump(), 80),
                                      listed ? fmt::format("not one of its values {}", fmt::join(p.values, ", "))
                                             : fmt::format("not a value of type {}", space::to_string(p.type))));
      return;
    }
    if (auto st = space.from_json(nlohmann::json{{p.name, space::to_json(*v)}}); !st) {
      out.notes.push_back(fmt::format("{} (this machine runs {}, outside the search space: {})", p.name,
                                      comment_text(space::to_string(*v), 80), comment_text(st.error().message, 200)));
      return;
    }
    if (space::outside_safe_range(p, *v))
      out.warnings.push_back(fmt::format("this machine runs {} = {}, outside its safe_range {}: the baseline itself "
                                         "trades away safety", p.name, space::to_string(*v),
                                         space::safe_range_json(p).dump()));
    out.values[p.name] = *v;
  };
  for (const auto& p : space.parameters()) {
    if (p.domain == space::Domain::sysctl || p.domain == space::Domain::sysfs) {
      const bool sysfs = p.domain == space::Domain::sysfs;
      auto path = sysfs ? targets::guest::sysfs_path(p.name) : targets::guest::sysctl_path(p.name);
      if (!path) {
        out.notes.push_back(fmt::format("{} (not a readable path)", p.name));
        continue;
      }
      auto text = util::read_file(file(*path));
      if (!text) {
        out.notes.push_back(fmt::format("{} ({} cannot be read on this machine)", p.name, *path));
        continue;
      }
      accept(p, targets::guest::normalize_knob_value(*text, sysfs), *path);
    } else if (p.domain == space::Domain::cmdline) {
      if (!cmdline) {
        auto text = util::read_file(file("/proc/cmdline"));
        cmdline = std::vector<std::string>{};
        if (text)
          for (auto& w : util::split(targets::guest::normalize_knob_value(*text, false), ' ')) {
            if (w == "--") break;  // the rest is init's
            if (!w.empty()) cmdline->push_back(std::move(w));
          }
        else
          out.notes.push_back("boot parameters (/proc/cmdline cannot be read on this machine)");
      }
      // The kernel takes the last of repeated parameters.
      std::optional<std::string> value;
      bool bare = false;
      for (const auto& w : *cmdline) {
        if (w == p.name) bare = true;
        else if (util::starts_with(w, p.name + "=")) value = w.substr(p.name.size() + 1);
      }
      if (p.type == space::Type::boolean) accept(p, bare, "/proc/cmdline");
      else if (value) accept(p, *value, "/proc/cmdline");
      else out.values[p.name] = p.default_value;  // absent: the kernel runs its default
    }
  }
  return out;
}

}  // namespace kerntune::campaign
