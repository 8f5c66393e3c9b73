// The ssh target's recipe keys, inventory files, shell quoting and ssh argv.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "option_fields.hpp"
#include "ssh_target.hpp"
#include "kerntune/util/text.hpp"
#include "kerntune/util/yaml.hpp"

namespace kerntune::targets {
namespace {

namespace fs = std::filesystem;

using fields::resolve_path;

util::Result<std::vector<std::string>> as_argv(const YAML::Node& n, const std::string& file, const std::string& what) {
  if (!n.IsSequence() || n.size() == 0) return util::fail_at(n, file, what + " must be a non-empty list of arguments");
  std::vector<std::string> out;
  for (const auto& item : n) {
    KT_TRY(std::string a, util::as_string(item, file, what));
    out.push_back(a);
  }
  return out;
}

// ssh reads -o values with its own word splitter and expands %-tokens in
// some of them: a path given there must not hold blanks, quotes or backslashes.
bool safe_ssh_option_path(const std::string& p) {
  for (unsigned char c : p)
    if (c <= ' ' || c == '"' || c == '\'' || c == '\\' || c == 0x7f) return false;
  return true;
}

std::string percent_escaped(const std::string& p) {
  std::string out;
  for (char c : p) out += c == '%' ? std::string("%%") : std::string(1, c);
  return out;
}

util::Result<SshHost> parse_host(const YAML::Node& n, const std::string& file, const std::string& base_dir) {
  if (!n.IsMap()) return util::fail_at(n, file, "each host must be a mapping with an 'address'");
  KT_TRY_STATUS(util::check_keys(n, file,
                                 {"name", "address", "port", "user", "key", "known_hosts", "host_key_policy", "role",
                                  "recovery", "ssh_options"},
                                 "ssh host"));
  SshHost h;
  if (!n["address"]) return util::fail_at(n, file, "a host needs an 'address'");
  KT_TRY(h.address, util::as_string(n["address"], file, "address"));
  if (h.address.empty() || h.address.front() == '-' ||
      h.address.find_first_of(" \t\n'\"\\@") != std::string::npos)
    return util::fail_at(n["address"], file, fmt::format("'{}' is not a host name or address", h.address));
  if (auto p = n["port"]) {
    KT_TRY(long long port, util::as_int(p, file, "port"));
    if (port < 1 || port > 65535) return util::fail_at(p, file, "port must be 1..65535");
    h.port = static_cast<int>(port);
  }
  if (auto u = n["user"]) {
    KT_TRY(h.user, util::as_string(u, file, "user"));
    if (h.user.empty() || h.user.front() == '-' || h.user.find_first_of(" \t\n'\"\\@") != std::string::npos)
      return util::fail_at(u, file, fmt::format("'{}' is not a user name", h.user));
  }
  if (auto k = n["key"]) {
    KT_TRY(std::string key, util::as_string(k, file, "key"));
    h.key = resolve_path(key, base_dir);
    if (!fs::is_regular_file(h.key)) return util::fail_at(k, file, fmt::format("key file '{}' does not exist", h.key));
  }
  if (auto k = n["known_hosts"]) {
    KT_TRY(std::string kh, util::as_string(k, file, "known_hosts"));
    h.known_hosts = resolve_path(kh, base_dir);
    if (!safe_ssh_option_path(h.known_hosts))
      return util::fail_at(k, file, "known_hosts path must not contain blanks, quotes or backslashes (ssh splits it)");
  }
  if (auto p = n["host_key_policy"]) {
    KT_TRY(h.host_key_policy, util::as_string(p, file, "host_key_policy"));
    if (h.host_key_policy != "strict" && h.host_key_policy != "accept-new" && h.host_key_policy != "off")
      return util::fail_at(p, file, "host_key_policy must be strict, accept-new or off");
  }
  if (auto r = n["role"]) {
    KT_TRY(h.role, util::as_string(r, file, "role"));
    if (h.role != "target" && h.role != "loadgen") return util::fail_at(r, file, "role must be target or loadgen");
  }
  if (auto r = n["recovery"]) {
    KT_TRY(h.recovery, as_argv(r, file, "recovery"));
    if (!h.recovery[0].empty() && h.recovery[0].find('/') != std::string::npos)
      h.recovery[0] = resolve_path(h.recovery[0], base_dir);
  }
  if (auto o = n["ssh_options"]) {
    KT_TRY(h.ssh_options, as_argv(o, file, "ssh_options"));
  }
  if (auto nm = n["name"]) {
    KT_TRY(h.name, util::as_string(nm, file, "name"));
  }
  if (h.name.empty()) h.name = h.port == 22 ? h.address : fmt::format("{}:{}", h.address, h.port);
  return h;
}

util::Status parse_hosts(const YAML::Node& list, const std::string& file, const std::string& base_dir,
                         std::vector<SshHost>& out) {
  if (!list.IsSequence() || list.size() == 0) return util::fail_at(list, file, "'hosts' must be a non-empty list");
  for (const auto& n : list) {
    KT_TRY(SshHost h, parse_host(n, file, base_dir));
    for (const auto& other : out)
      if (other.name == h.name) return util::fail_at(n, file, fmt::format("two hosts are named '{}'", h.name));
    out.push_back(std::move(h));
  }
  return {};
}

}  // namespace

std::string shell_quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\0') throw std::invalid_argument("shell_quote: a NUL byte cannot reach a shell");
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  out += "'";
  return out;
}

std::optional<std::string> bzimage_release(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  char hdr[0x210] = {};
  if (!in.read(hdr, sizeof hdr)) return std::nullopt;
  if (std::string_view(hdr + 0x202, 4) != "HdrS") return std::nullopt;
  auto u16 = [&](int off) {
    return static_cast<unsigned>(static_cast<unsigned char>(hdr[off])) |
           (static_cast<unsigned>(static_cast<unsigned char>(hdr[off + 1])) << 8);
  };
  unsigned ptr = u16(0x20e);
  if (ptr == 0) return std::nullopt;
  in.seekg(0x200 + ptr);
  char text[256] = {};
  in.read(text, sizeof text - 1);
  std::string s(text, static_cast<std::size_t>(in.gcount()));
  auto end = s.find_first_of(std::string(" \0", 2));
  s = s.substr(0, end);
  if (s.empty()) return std::nullopt;
  return s;
}

std::string SshOptions::validate() const {
  if (hosts.empty()) return "the ssh target needs at least one host";
  bool any_target = false, any_loadgen = false;
  for (const auto& h : hosts) {
    any_target = any_target || h.role == "target";
    any_loadgen = any_loadgen || h.role == "loadgen";
  }
  if (!any_target) return "no host has role 'target'";
  if (workload_on != "target" && workload_on != "loadgen") return "workload_on must be target or loadgen";
  if (workload_on == "loadgen" && !any_loadgen) return "workload_on: loadgen needs a host with role 'loadgen'";
  if (remote_dir.empty() || remote_dir.front() != '/' || remote_dir == "/")
    return "remote_dir must be an absolute folder other than /";
  if (remote_dir.find('\0') != std::string::npos || remote_dir.find('\n') != std::string::npos)
    return "remote_dir must be one line";
  if (kexec_exec.empty()) return "kexec_exec must name a command";
  return {};
}

std::vector<std::string> ssh_argv(const SshOptions& o, const SshHost& h, const std::string& control_path,
                                  bool master) {
  auto secs = [](std::chrono::milliseconds d) { return std::to_string(std::max<long long>(1, d.count() / 1000)); };
  std::vector<std::string> argv = {o.ssh_binary, "-T", "-o", "BatchMode=yes", "-o",
                                   "ConnectTimeout=" + secs(o.connect_timeout), "-o", "ServerAliveInterval=5",
                                   "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR"};
  if (h.host_key_policy == "off") {
    argv.insert(argv.end(), {"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"});
  } else {
    argv.insert(argv.end(), {"-o", h.host_key_policy == "strict" ? "StrictHostKeyChecking=yes"
                                                                 : "StrictHostKeyChecking=accept-new"});
    if (!h.known_hosts.empty()) argv.insert(argv.end(), {"-o", "UserKnownHostsFile=" + percent_escaped(h.known_hosts)});
  }
  if (!h.key.empty()) argv.insert(argv.end(), {"-i", h.key, "-o", "IdentitiesOnly=yes"});
  if (!control_path.empty()) {
    argv.insert(argv.end(), {"-o", "ControlPath=" + percent_escaped(control_path)});
    if (master) argv.insert(argv.end(), {"-o", "ControlMaster=yes", "-o", "ControlPersist=no", "-N"});
    else argv.insert(argv.end(), {"-o", "ControlMaster=no"});
  }
  argv.insert(argv.end(), h.ssh_options.begin(), h.ssh_options.end());
  argv.insert(argv.end(), {"-p", std::to_string(h.port), "-l", h.user, "--", h.address});
  return argv;
}

util::Result<SshOptions> parse_ssh_options(const YAML::Node& node, const TargetContext& ctx) {
  const std::string& file = ctx.recipe_file;
  if (!node || !node.IsMap()) return util::fail_at(node, file, "'target' must be a mapping");
  KT_TRY_STATUS(util::check_keys(node, file,
                                 {"kind", "hosts", "inventory", "kernel", "initramfs", "cmdline_base", "kexec_exec",
                                  "remote_dir", "workload_on", "recovery", "connect_timeout", "boot_timeout",
                                  "recovery_timeout", "command_timeout", "ssh"},
                                 "ssh target"));
  SshOptions o;
  if (node["hosts"] && node["inventory"])
    return util::fail_at(node["inventory"], file, "give either 'hosts' or 'inventory', not both");
  if (auto h = node["hosts"]) {
    KT_TRY_STATUS(parse_hosts(h, file, ctx.recipe_dir, o.hosts));
  } else if (auto inv = node["inventory"]) {
    KT_TRY(std::string path, util::as_string(inv, file, "inventory"));
    path = resolve_path(path, ctx.recipe_dir);
    auto doc = util::load_yaml_file(path);
    if (!doc) return util::fail_at(inv, file, fmt::format("inventory '{}': {}", path, doc.error().message));
    if (!doc->IsMap() || !(*doc)["hosts"]) return util::fail_at(*doc, path, "an inventory file needs 'hosts:'");
    KT_TRY_STATUS(util::check_keys(*doc, path, {"hosts"}, "inventory"));
    KT_TRY_STATUS(parse_hosts((*doc)["hosts"], path, fs::path(path).parent_path().string(), o.hosts));
  } else {
    return util::fail_at(node, file, "the ssh target needs 'hosts' (a list) or 'inventory' (a file)");
  }
  if (auto r = node["recovery"]) {
    KT_TRY(auto argv, as_argv(r, file, "recovery"));
    if (argv[0].find('/') != std::string::npos) argv[0] = resolve_path(argv[0], ctx.recipe_dir);
    for (auto& h : o.hosts)
      if (h.recovery.empty()) h.recovery = argv;
  }
  for (const char* key : {"kernel", "initramfs"}) {
    if (auto k = node[key]) {
      KT_TRY(std::string p, util::as_string(k, file, key));
      p = resolve_path(p, ctx.recipe_dir);
      if (!fs::is_regular_file(p)) return util::fail_at(k, file, fmt::format("{} '{}' does not exist", key, p));
      (std::string_view(key) == "kernel" ? o.kernel : o.initramfs) = p;
    }
  }
  if (auto c = node["cmdline_base"]) {
    KT_TRY(std::string base, util::as_string(c, file, "cmdline_base"));
    o.cmdline_base = base;
  }
  if (auto k = node["kexec_exec"]) {
    KT_TRY(o.kexec_exec, as_argv(k, file, "kexec_exec"));
  }
  KT_TRY_STATUS(fields::optional_string(node, file, "remote_dir", o.remote_dir));
  KT_TRY_STATUS(fields::optional_string(node, file, "workload_on", o.workload_on));
  KT_TRY_STATUS(fields::optional_duration(node, file, "connect_timeout", o.connect_timeout));
  KT_TRY_STATUS(fields::optional_duration(node, file, "boot_timeout", o.boot_timeout));
  KT_TRY_STATUS(fields::optional_duration(node, file, "recovery_timeout", o.recovery_timeout));
  KT_TRY_STATUS(fields::optional_duration(node, file, "command_timeout", o.command_timeout));
  KT_TRY_STATUS(fields::optional_string(node, file, "ssh", o.ssh_binary));
  if (!ctx.work_dir.empty()) o.work_dir = fields::work_subdir(ctx.work_dir, "ssh");
  if (auto why = o.validate(); !why.empty()) return util::fail_at(node, file, why);
  return o;
}

namespace {

// With `workers: N` each worker owns its own target hosts (the k-th target host
// goes to worker k mod N), so no host ever runs two trials (two kexecs) at
// once, and a worker whose hosts are all lost stops without touching the
// others' hosts (docs/workers.md, "ssh host pools").
/// `at`: where a pool-size error points, `workers:` when the recipe has it, else the target.
util::Status check_pool_size(const SshOptions& o, int workers, const fields::Place& at) {
  if (workers <= 1) return {};
  int targets = 0;
  for (const auto& h : o.hosts) targets += h.role == "target" ? 1 : 0;
  if (workers <= targets) return {};
  return at.fail(fmt::format("workers: {} but the ssh pool has {} target host{}: each host runs one trial at a "
                                   "time, so use at most workers: {} or add hosts",
                                   workers, targets, targets == 1 ? "" : "s", targets));
}

std::vector<SshHost> hosts_for_worker(const std::vector<SshHost>& hosts, int worker, int workers) {
  if (workers <= 1) return hosts;
  std::vector<SshHost> mine;
  int k = 0;
  for (const auto& h : hosts) {
    if (h.role != "target") mine.push_back(h);
    else if (k++ % workers == worker) mine.push_back(h);
  }
  return mine;
}

}  // namespace

util::Result<TargetSpec> parse_ssh_target(const YAML::Node& node, const TargetContext& ctx) {
  KT_TRY(SshOptions parsed, parse_ssh_options(node, ctx));
  fields::Place at{ctx.recipe_file, ctx.workers_line, ctx.workers_column};
  if (at.line == 0) at = fields::Place::of(node, ctx.recipe_file);
  KT_TRY_STATUS(check_pool_size(parsed, ctx.worker_count, at));
  return TargetSpec("ssh", [parsed, at](const TargetContext& worker) -> util::Result<std::unique_ptr<Target>> {
    KT_TRY_STATUS(check_pool_size(parsed, worker.worker_count, at));  // a runner of more workers than the recipe's
    SshOptions o = parsed;
    o.hosts = hosts_for_worker(parsed.hosts, worker.worker_index, worker.worker_count);
    if (!worker.work_dir.empty()) o.work_dir = fields::work_subdir(worker.work_dir, "ssh");
    return std::unique_ptr<Target>(std::make_unique<SshTarget>(std::move(o)));
  });
}

}  // namespace kerntune::targets
