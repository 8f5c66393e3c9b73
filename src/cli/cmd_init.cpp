// `kerntune init`: a commented starter recipe from a few choices (flags, and
// prompts on a terminal), checked by the recipe loader before it is kept.
// Reference: docs/cli.md, "init". The recipe text: campaign/starter.hpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "kerntune/campaign/recipe.hpp"
#include "kerntune/campaign/starter.hpp"
#include "kerntune/targets/factory.hpp"
#include "kerntune/targets/qemu_target.hpp"
#include "kerntune/util/log.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::cli {
namespace {
namespace fs = std::filesystem;

struct InitArgs {
  std::string target, host, ssh_key, workload, metric, direction, name, shipped;
  std::vector<std::string> spaces, only, limits, argv;
  int trials = 0;
  std::string out = "recipe.yaml";
  bool force = false, list = false, from_host = false, from_target = false;
};

util::Error bad(std::string message) { return util::Error{util::Error::Kind::invalid_input, std::move(message), "", 0, 0}; }

/// The project's shipped files: --shipped, else the first folder up from the
/// binary's (build/kerntune → the checkout), else up from the current folder.
util::Result<campaign::Catalog> catalog_for(const InitArgs& a) {
  if (!a.shipped.empty()) {
    if (!fs::is_directory(fs::path(a.shipped) / "search-spaces") ||
        !fs::is_directory(fs::path(a.shipped) / "recipes" / "workloads"))
      return std::unexpected(bad(fmt::format("--shipped '{}' holds no search-spaces/ and recipes/workloads/", a.shipped)));
    return campaign::load_catalog(a.shipped);
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  auto root = campaign::find_project_root({ec ? std::string() : exe.parent_path().string(), fs::current_path().string()});
  if (!root)
    return util::fail("cannot find the shipped search-spaces/ and recipes/workloads/ (looked up from the kerntune "
                      "binary's folder and the current folder); give --shipped DIR, the kerntune checkout",
                      util::Error::Kind::io);
  return campaign::load_catalog(*root);
}

std::string one_line(std::string_view text, std::size_t max = 110) {
  std::string flat(text);
  for (char& c : flat)
    if (util::is_control(c)) c = ' ';
  std::string s = util::printable(flat);
  s = util::trim(s);
  while (s.find("  ") != std::string::npos) s.replace(s.find("  "), 2, " ");
  return s.size() > max ? s.substr(0, max - 3) + "..." : s;
}

void print_list(const campaign::Catalog& c) {
  std::string out;
  out += "Targets (--target):\n"
         "  qemu      boot the kernel in a QEMU guest on this machine (default; docs/qemu-target.md)\n"
         "  libvirt   the same guest as a transient libvirt domain (docs/libvirt-target.md)\n"
         "  ssh       a real host over SSH, --host [USER@]ADDRESS[:PORT] (docs/ssh-target.md)\n"
         "  command   any program: kerntune init --target command -- PROGRAM ARGS… (docs/command-target.md)\n\n";
  out += "Workloads (--workload, qemu and ssh; default hackbench) and their metrics (--metric):\n";
  for (const auto& w : c.workloads) {
    out += fmt::format("  {:<18} {}\n", w.name, one_line(w.description));
    std::string ms;
    for (const auto& m : w.metrics)
      ms += fmt::format("{}{} ({}{})", ms.empty() ? "" : ", ", m.name, m.direction == "maximize" ? "max" : "min",
                        m.unit.empty() ? "" : ", " + one_line(m.unit, 20));
    out += fmt::format("  {:<18} metrics: {}\n", "", ms);
  }
  out += "  Kernel targets also measure sys.* metrics (docs/objectives.md), e.g. sys.workload_mem_mean_kb.\n\n";
  out += "Search spaces (--space FILE, repeatable; --only NAME keeps some of a file's parameters):\n";
  for (const auto& s : c.spaces) {
    out += fmt::format("  {:<22} {}\n", s.file, one_line(s.space.description()));
    for (auto d : {space::Domain::sysctl, space::Domain::sysfs, space::Domain::cmdline, space::Domain::kconfig,
                   space::Domain::generic}) {
      std::string names;
      for (const auto& p : s.space.parameters())
        if (p.domain == d) names += (names.empty() ? "" : " ") + p.name;
      if (!names.empty()) out += fmt::format("  {:<22}   {}: {}\n", "", space::to_string(d), names);
    }
  }
  out += "\nDefaults without a terminal: --target qemu, --workload hackbench, --space sysctl-sched.yaml\n"
         "(example-generic.yaml for command), the workload's first metric and its direction (command: y,\n"
         "minimize), --trials 20, --out recipe.yaml.\n";
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

/// Asks on the terminal; an empty answer (or end of input) keeps `fallback`.
std::string ask(const std::string& question, const std::string& fallback) {
  std::fprintf(stderr, "%s [%s]: ", question.c_str(), util::printable(fallback).c_str());
  std::fflush(stderr);
  std::string line;
  if (!std::getline(std::cin, line)) return fallback;
  line = util::trim(line);
  return line.empty() ? fallback : line;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  for (auto& w : util::split(text, ' '))
    if (!util::trim(w).empty()) out.push_back(util::trim(w));
  return out;
}

/// "[USER@]ADDRESS[:PORT]" into the choices.
util::Status parse_host(const std::string& text, campaign::StarterChoices& c) {
  std::string rest = text;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    c.ssh_user = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  // host:port, but not a bare IPv6 address; [v6]:port keeps its brackets off.
  if (!rest.empty() && rest.front() == '[' && rest.find("]:") != std::string::npos) {
    auto close = rest.find("]:");
    std::string port = rest.substr(close + 2);
    rest = rest.substr(1, close - 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5)
      return std::unexpected(bad(fmt::format("--host '{}': the port must be a number", text)));
    c.ssh_port = std::stoi(port);
  } else if (auto colon = rest.find(':'); colon != std::string::npos && rest.find(':', colon + 1) == std::string::npos) {
    std::string port = rest.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5)
      return std::unexpected(bad(fmt::format("--host '{}': the port must be a number", text)));
    c.ssh_port = std::stoi(port);
    rest = rest.substr(0, colon);
  }
  if (c.ssh_port < 1 || c.ssh_port > 65535) return std::unexpected(bad(fmt::format("--host '{}': port must be 1..65535", text)));
  if (c.ssh_user.empty()) return std::unexpected(bad(fmt::format("--host '{}': empty user name", text)));
  c.ssh_address = rest;
  return {};
}

/// "METRIC OP VALUE…", e.g. "get_rps >= 95% baseline", as an objective entry with a limit.
util::Result<campaign::ObjectiveChoice> parse_limit(const std::string& text) {
  auto t = util::trim(text);
  auto sp = t.find_first_of(" \t<>");
  if (sp == std::string::npos || sp == 0)
    return std::unexpected(bad(fmt::format("--limit '{}' must look like 'METRIC >= 95% baseline' or 'METRIC <= 512'", text)));
  return campaign::ObjectiveChoice{t.substr(0, sp), "", util::trim(t.substr(sp))};
}

/// Writes `text` to a new file beside `out` (O_EXCL, a random name), so the
/// recipe loader resolves its relative paths as it will for `out`.
util::Result<std::string> write_temp_beside(const fs::path& out, const std::string& text) {
  std::string tmpl = (out.parent_path() / ("." + out.filename().string() + ".init-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0) return util::io_error(fmt::format("cannot create a file in {}: {}", out.parent_path().string(), std::strerror(errno)));
  std::string path(buf.data());
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return util::io_error(fmt::format("cannot write {}: {}", path, std::strerror(err)));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::fchmod(fd, 0644);
  if (::close(fd) != 0) {
    ::unlink(path.c_str());
    return util::io_error(fmt::format("cannot write {}", path));
  }
  return path;
}

/// A loader error about the temporary file, told about the file it becomes.
util::Error about(util::Error e, const std::string& tmp, const std::string& out) {
  if (e.file == tmp) e.file = out;
  for (std::size_t at; (at = e.message.find(tmp)) != std::string::npos;) e.message.replace(at, tmp.size(), out);
  e.message = "the recipe kerntune init would write does not load (nothing was written): " + e.message;
  return e;
}

/// Loads the recipe text as `out` would be loaded (and its workload and
/// target); returns it, with errors named after `out`.
util::Result<campaign::Recipe> load_as(const fs::path& out, const std::string& text, const std::string& work_dir,
                                      bool final) {
  KT_TRY(std::string tmp, write_temp_beside(out, text));
  struct Unlink {
    std::string p;
    ~Unlink() { ::unlink(p.c_str()); }
  } unlink_tmp{tmp};
  auto r = campaign::load_recipe(tmp);
  if (!r) return std::unexpected(about(r.error(), tmp, out.string()));
  if (!r->workload.empty())
    if (auto w = campaign::load_recipe_workload(*r); !w) return std::unexpected(about(w.error(), tmp, out.string()));
  const std::string kind = r->target["kind"] ? r->target["kind"].Scalar() : "";
  if ((kind == "qemu" || kind == "libvirt") && !targets::default_kernel({r->dir, fs::current_path().string()})) {
    if (final)
      util::log_warn("no kernel image for the {} target yet: run scripts/fetch-kernel (or set KERNTUNE_KERNEL) "
                     "before `kerntune tune`", kind);
  } else {
    targets::TargetContext ctx;
    ctx.recipe_file = tmp;
    ctx.recipe_dir = r->dir;
    ctx.work_dir = work_dir;
    ctx.required_metrics = r->metric_names();
    if (auto t = r->target_spec.make(ctx); !t) return std::unexpected(about(t.error(), tmp, out.string()));
  }
  return r;
}

int run_init(InitArgs& a, const CLI::App& cmd) {
  auto catalog = catalog_for(a);
  if (!catalog) return report_error(catalog.error());
  if (a.list) {
    print_list(*catalog);
    return 0;
  }
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  auto given = [&](const char* opt) { return cmd.count(opt) > 0; };

  campaign::StarterChoices c;
  c.target = a.target;
  if (!given("--target")) c.target = tty ? ask("target: qemu, libvirt, ssh or command", "qemu") : "qemu";
  if (c.target == "ssh" && a.host.empty() && tty) a.host = ask("ssh host, [USER@]ADDRESS[:PORT]", "");
  if (!a.host.empty())
    if (auto st = parse_host(a.host, c); !st) return report_error(st.error());
  // A recipe's paths resolve against its own folder: the key as given here, from the current folder.
  if (!a.ssh_key.empty()) c.ssh_key = fs::absolute(a.ssh_key).lexically_normal().string();
  c.argv = a.argv;
  if (c.target == "command" && c.argv.empty() && tty) c.argv = words(ask("program and arguments (separated by spaces)", ""));
  const bool kernel = c.target == "qemu" || c.target == "libvirt" || c.target == "ssh";
  if (kernel) {
    c.workload = a.workload;
    if (!given("--workload")) {
      if (tty) {
        std::string names;
        for (const auto& w : catalog->workloads) names += (names.empty() ? "" : ", ") + w.name;
        std::fprintf(stderr, "workloads: %s (kerntune init --list says what each measures)\n", names.c_str());
        c.workload = ask("workload", "hackbench");
      } else {
        c.workload = "hackbench";
      }
    }
  } else {
    c.workload = a.workload;
  }
  const workloads::Workload* w = kernel ? catalog->find_workload(c.workload) : nullptr;

  c.spaces = a.spaces;
  const std::string default_space = kernel ? "sysctl-sched.yaml" : "example-generic.yaml";
  if (c.spaces.empty()) {
    if (tty) {
      std::string names;
      for (const auto& s : catalog->spaces) names += (names.empty() ? "" : ", ") + s.file;
      std::fprintf(stderr, "search spaces: %s\n", names.c_str());
      c.spaces = words(ask("search spaces (separated by spaces)", default_space));
    } else {
      c.spaces = {default_space};
    }
  }
  c.only = a.only;

  campaign::ObjectiveChoice obj{a.metric, a.direction, ""};
  const std::string default_metric = w && !w->metrics.empty() ? w->metrics.front().name : kernel ? "" : "y";
  if (obj.metric.empty()) obj.metric = tty ? ask("metric to optimize", default_metric) : default_metric;
  if (obj.direction.empty()) {
    const workloads::MetricSpec* m = w ? w->find_metric(obj.metric) : nullptr;
    const std::string hint = m ? m->direction : "minimize";
    obj.direction = tty ? ask("direction: minimize or maximize", hint) : hint;
  }
  c.objectives.push_back(obj);
  for (const auto& l : a.limits) {
    auto o = parse_limit(l);
    if (!o) return report_error(o.error());
    c.objectives.push_back(*o);
  }
  c.trials = a.trials;
  if (!given("--trials")) {
    if (tty) {
      std::string t = ask("budget: trials, the baseline included", "20");
      c.trials = t.find_first_not_of("0123456789") == std::string::npos && t.size() < 7 ? std::atoi(t.c_str()) : 0;
    } else {
      c.trials = 20;
    }
  }
  c.name = a.name;
  if (!c.name.empty())
    if (auto why = util::name_text_problem(c.name))
      return report_error(bad(fmt::format("--name '{}' cannot name a campaign: {}", c.name, *why)));
  c.baseline_from_target = a.from_target;
  if (a.from_host && a.from_target)
    return report_error(bad("choose one baseline: --from-host (this machine's values now) or --from-target (the ssh "
                            "host's, read at trial 0)"));
  if (auto st = campaign::check_choices(c, *catalog); !st) return report_error(st.error());

  // Where it goes: never over an existing file without --force.
  std::error_code ec;
  fs::path out = fs::absolute(a.out, ec);
  if (ec || a.out.empty()) return report_error(bad(fmt::format("--out '{}' is not a file name", a.out)));
  if (fs::is_directory(out)) return report_error(bad(fmt::format("--out '{}' is a folder, not a file", a.out)));
  if (!fs::is_directory(out.parent_path()))
    return report_error(bad(fmt::format("--out '{}': folder {} does not exist", a.out, out.parent_path().string())));
  if (!a.force && fs::symlink_status(out).type() != fs::file_type::not_found)
    return report_error(bad(fmt::format("{} exists; kerntune init does not overwrite it without --force", a.out)));
  out = fs::weakly_canonical(out.parent_path()) / out.filename();

  // The command runs in the recipe's folder: a file named relative to the current folder may not be there.
  if (c.target == "command" && fs::current_path() != out.parent_path())
    for (const auto& arg : c.argv)
      if (!fs::path(arg).is_absolute() && fs::exists(arg) && !fs::exists(out.parent_path() / arg))
        util::log_warn("'{}' is in the current folder, not in {}, where the command runs (name it by its absolute "
                       "path, or write the recipe beside it)", util::printable(arg), util::printable(out.parent_path().string()));

  auto work = util::make_temp_dir("kerntune-init");
  if (!work) return report_error(work.error());
  util::TempDirGuard guard(*work);

  // The chosen spaces merged as the recipe loader merges them, then (--from-host) this machine's values.
  auto draft = load_as(out, campaign::render_starter_recipe(c, *catalog, out.parent_path().string()), *work, false);
  if (!draft) return report_error(draft.error());
  if (a.from_host) {
    auto host = campaign::read_host_values(draft->space);
    char hn[256] = {};
    if (::gethostname(hn, sizeof hn - 1) != 0) hn[0] = '\0';
    c.baseline_source = hn[0] ? fmt::format("this machine ({})", util::printable(hn)) : "this machine";
    // Only values that differ from the file's default need an override.
    for (const auto& [name, value] : host.values)
      if (const auto* p = draft->space.find(name); p && !(p->default_value == value)) c.baseline[name] = value;
    c.baseline_notes = host.notes;
    for (const auto& n : host.notes) util::log_warn("--from-host: left at its default: {}", one_line(n, 300));
    for (const auto& n : host.warnings) util::log_warn("--from-host: {}", one_line(n, 300));
    std::size_t readable = 0;
    for (const auto& p : draft->space.parameters())
      readable += p.domain == space::Domain::sysctl || p.domain == space::Domain::sysfs || p.domain == space::Domain::cmdline;
    util::log_info("--from-host: {} of {} parameters read{}; {} differ from the defaults", host.values.size(), readable,
                   readable < draft->space.size()
                       ? fmt::format(" ({} Kconfig or generic ones keep their defaults)", draft->space.size() - readable)
                       : "",
                   c.baseline.size());
  }
  std::string text = campaign::render_starter_recipe(c, *catalog, out.parent_path().string());
  auto final_recipe = load_as(out, text, *work, true);
  if (!final_recipe) return report_error(final_recipe.error());

  // Into place: without --force, link() refuses a file that appeared meanwhile.
  auto tmp = write_temp_beside(out, text);
  if (!tmp) return report_error(tmp.error());
  int rc = a.force ? ::rename(tmp->c_str(), out.c_str()) : ::link(tmp->c_str(), out.c_str());
  int err = errno;
  if (!a.force || rc != 0) ::unlink(tmp->c_str());
  if (rc != 0) {
    if (err == EEXIST) return report_error(bad(fmt::format("{} exists; kerntune init does not overwrite it without --force", a.out)));
    return report_error(util::Error{util::Error::Kind::io, fmt::format("cannot write {}: {}", out.string(), std::strerror(err)), "", 0, 0});
  }
  util::log_info("wrote {} ({} target{}, {} parameters, {} trials); run it with: kerntune tune {}", util::printable(a.out),
                 c.target, c.workload.empty() ? "" : ", workload " + c.workload, final_recipe->space.size(), c.trials,
                 util::printable(a.out));
  return 0;
}

}  // namespace

void add_init_commands(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<InitArgs>();
  CLI::App* init = app.add_subcommand("init", "Write a commented starter recipe from a few choices");
  init->add_option("--target", a->target, "qemu | libvirt | ssh | command (default qemu)");
  init->add_option("--host", a->host, "ssh: the host, [USER@]ADDRESS[:PORT] (user root, port 22 by default)");
  init->add_option("--ssh-key", a->ssh_key, "ssh: private key file (default: ssh's own keys and agent)");
  init->add_option("--workload", a->workload, "qemu/ssh: a shipped workload (default hackbench; see --list)");
  init->add_option("--space", a->spaces, "A shipped search-space file, repeatable (default sysctl-sched.yaml; "
                                         "example-generic.yaml for command)");
  init->add_option("--only", a->only, "Keep only these parameters of the file that defines each, repeatable");
  init->add_option("--metric", a->metric, "The metric to optimize (default: the workload's first; command: y)");
  init->add_option("--direction", a->direction, "minimize | maximize (default: the workload's hint; command: minimize)");
  init->add_option("--limit", a->limits, "An outcome limit, repeatable: \"METRIC >= 95% baseline\", \"METRIC <= 512\"");
  init->add_option("--trials", a->trials, "Budget: trials, the baseline included (default 20)");
  init->add_option("--name", a->name, "Campaign name (default: the file's name)");
  init->add_flag("--from-host", a->from_host,
                 "Baseline: this machine's current values of the chosen sysctl, sysfs and boot parameters");
  init->add_flag("--from-target", a->from_target,
                 "ssh: baseline: target — trial 0 reads the host's sysctl and sysfs values over its session");
  init->add_option("-o,--out", a->out, "The recipe to write (default recipe.yaml)");
  init->add_flag("--force", a->force, "Overwrite --out if it exists");
  init->add_flag("--list", a->list, "List the targets, workloads (what each measures) and search spaces, then exit");
  init->add_option("--shipped", a->shipped, "Folder with search-spaces/ and recipes/workloads/ (default: the checkout "
                                            "the kerntune binary was built in)");
  init->add_option("ARGV", a->argv, "command: the program and its arguments, after --");
  init->footer(
      "Examples:\n"
      "  kerntune init --list\n"
      "  kerntune init --workload redis-benchmark --space sysctl-net.yaml --metric get_rps -o net.yaml\n"
      "  kerntune init --target ssh --host root@10.0.0.5 --workload sysbench-cpu --space cmdline.yaml \\\n"
      "                --only mitigations --from-target -o lab.yaml\n"
      "  kerntune init --space sysctl-vm.yaml --only vm.swappiness --from-host -o vm.yaml\n"
      "  kerntune init --target command --space example-generic.yaml --metric y -o demo.yaml -- python3 eval.py\n"
      "On a terminal, a choice not given is asked for; otherwise it takes its default (--list).\n"
      "The recipe is loaded back as `kerntune tune` loads it before it is written. Exit 2: a bad\n"
      "choice, or --out exists without --force.");
  init->callback([a, init, &exit_code] { exit_code = run_init(*a, *init); });
}

}  // namespace kerntune::cli
