#include "kerntune/targets/guest_channel.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <string.h>

#include <cctype>
#include <charconv>

#include "kerntune/util/stop.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::targets::guest {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::unexpected<ChannelError> channel_error(ChannelError::Kind kind, std::string message) {
  return std::unexpected(ChannelError{kind, std::move(message)});
}

long long field_ll(const Reply& r, const std::string& key) {
  auto it = r.fields.find(key);
  if (it == r.fields.end()) return 0;
  long long v = 0;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return v;
}

// The cgroup fields of a run reply (agent.sh.inc cg_fields) and their metrics.
struct CgroupField {
  const char* field;
  const char* metric;
  double scale;
  const char* unit;
};
constexpr CgroupField kCgroupFields[] = {
    {"cgmean", "sys.workload_mem_mean_kb", 1, "kB"},
    {"cgmax", "sys.workload_mem_peak_kb", 1, "kB"},
    {"cgpeak", "sys.workload_mem_peak_since_boot_kb", 1, "kB"},
    {"cgzswap", "sys.workload_zswap_kb", 1, "kB"},
    {"cgswap", "sys.workload_swap_kb", 1, "kB"},
    {"pswpin", "sys.swap_in_pages", 1, "pages"},
    {"pswpout", "sys.swap_out_pages", 1, "pages"},
    {"zswpin", "sys.zswap_in_pages", 1, "pages"},
    {"zswpout", "sys.zswap_out_pages", 1, "pages"},
    {"cgcpu_us", "sys.workload_cpu_s", 1e-6, "s"},
};

}  // namespace

std::vector<AgentMetric> agent_metrics(const Reply& r) {
  auto ll = [&](const char* key) { return static_cast<double>(field_ll(r, key)); };
  std::vector<AgentMetric> out = {
      {"sys.mem_available_min_kb", ll("memmin"), "kB"}, {"sys.slab_kb", ll("slab"), "kB"},
      {"sys.cached_kb", ll("cached"), "kB"},            {"sys.pgfault", ll("pgfault"), "count"},
      {"sys.pgmajfault", ll("pgmajfault"), "count"},    {"sys.ctxt", ll("ctxt"), "count"},
      {"sys.elapsed_s", ll("elapsed_cs") / 100.0, "s"},
  };
  if (!r.fields.contains("cgmean")) return out;  // no cgroup in this guest
  for (const auto& f : kCgroupFields) out.push_back({f.metric, ll(f.field) * f.scale, f.unit});
  return out;
}

std::string tail_lines(const std::string& text, std::size_t n, std::string_view empty) {
  std::vector<std::string> kept;
  for (auto& l : util::split(text, '\n')) {
    auto t = util::trim(l);
    if (t.empty()) continue;
    kept.push_back(t);
    if (kept.size() > n) kept.erase(kept.begin());
  }
  std::string out;
  for (const auto& l : kept) out += (out.empty() ? "" : " | ") + l;
  return out.empty() ? std::string(empty) : out;
}

// "vm.swappiness" → "/proc/sys/vm/swappiness" (sysctl(8): '/' in a name stands for '.').
std::optional<std::string> sysctl_path(const std::string& name) {
  if (name.empty() || name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos)
    return std::nullopt;
  std::string path = "/proc/sys/";
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/'))
      return std::nullopt;
    path += c == '.' ? '/' : c == '/' ? '.' : c;
  }
  return path;
}

// "kernel/mm/transparent_hugepage/enabled" or "/sys/kernel/…" → "/sys/kernel/…".
std::optional<std::string> sysfs_path(std::string rel) {
  if (util::starts_with(rel, "/sys/")) rel = rel.substr(5);
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty()) return std::nullopt;
  for (auto& part : util::split(rel, '/'))
    if (part.empty() || part == "." || part == "..") return std::nullopt;
  for (char c : rel)
    if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
  return "/sys/" + rel;
}

std::expected<std::vector<KnobWrite>, std::string> knob_writes(
    const std::vector<std::pair<std::string, std::string>>& sysctls,
    const std::vector<std::pair<std::string, std::string>>& sysfs) {
  std::vector<KnobWrite> knobs;
  for (const auto& [name, value] : sysctls) {
    auto p = sysctl_path(name);
    if (!p) return std::unexpected(fmt::format("'{}' is not a valid sysctl name", name));
    knobs.push_back({name, *p, value, "sysctl"});
  }
  for (const auto& [path, value] : sysfs) {
    auto p = sysfs_path(path);
    if (!p) return std::unexpected(fmt::format("'{}' is not a path under /sys", path));
    knobs.push_back({path, *p, value, "sysfs knob"});
  }
  return knobs;
}

bool record_knob_write(const KnobWrite& k, const WriteReply& w, TrialOutcome& out) {
  const bool choice_lists = util::starts_with(k.path, "/sys/");  // "[x]" / "(x)" lists live in sysfs and debugfs
  switch (w.rc) {
    case 0: out.effective[k.name] = normalize_knob_value(w.readback, choice_lists); return true;
    case 4: out.effective[k.name] = k.value; return true;  // write-only (vm.drop_caches): stands as written
    case 1:
      out.refused[k.name] = w.message;
      if (!w.readback.empty()) out.effective[k.name] = normalize_knob_value(w.readback, choice_lists);
      return true;
    default: return false;
  }
}

std::string exit_description(int rc) {
  if (rc > 128 && rc < 128 + 65) return fmt::format("was killed by signal {} ({})", rc - 128, strsignal(rc - 128));
  return fmt::format("failed with exit code {}", rc);
}

ChannelResult<void> GuestChannel::pump(milliseconds wait) {
  if (util::stop_requested())
    return channel_error(ChannelError::Kind::interrupted, "interrupted");
  auto chunk = child_.read_some(wait);
  if (!chunk) {
    drain(milliseconds(0));
    if (parser_.panic()) return channel_error(ChannelError::Kind::panic, *parser_.panic());
    child_.wait(milliseconds(2000));
    std::string how = child_.term_signal() != 0 ? fmt::format("killed by signal {}", child_.term_signal())
                                                : fmt::format("exit code {}", child_.exit_code());
    return channel_error(ChannelError::Kind::exited,
                         fmt::format("the VM ended ({}); console tail: {}", how, tail_lines(parser_.log(), 5)));
  }
  parser_.feed(*chunk);
  if (parser_.panic()) {
    drain(milliseconds(3000));
    return channel_error(ChannelError::Kind::panic, *parser_.panic());
  }
  return {};
}

void GuestChannel::drain(milliseconds wait) {
  auto end = Clock::now() + wait;
  while (true) {
    auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now());
    auto chunk = child_.read_some(std::max(left, milliseconds(0)));
    if (!chunk) return;                 // end of stream
    if (chunk->empty() && Clock::now() >= end) return;
    parser_.feed(*chunk);
  }
}

ChannelResult<void> GuestChannel::wait_ready(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!parser_.ready()) {
    if (Clock::now() >= deadline)
      return channel_error(ChannelError::Kind::timeout,
                           fmt::format("the guest agent was not ready within {:.0f} s; console tail: {}",
                                       timeout.count() / 1000.0, tail_lines(parser_.log(), 5)));
    auto r = pump(milliseconds(100));
    if (!r) return r;
  }
  return {};
}

ChannelResult<Reply> GuestChannel::call(std::string_view verb, const std::vector<std::string>& args,
                                        milliseconds timeout) {
  int id = next_id_++;
  std::string line = encode_command(id, verb, args);
  if (line.size() > kMaxCommandLine)
    return channel_error(ChannelError::Kind::protocol,
                         fmt::format("guest command '{}' is {} bytes encoded (limit {})", verb, line.size(),
                                     kMaxCommandLine));
  if (auto w = child_.write_all(line); !w) {
    drain(milliseconds(500));
    if (parser_.panic()) return channel_error(ChannelError::Kind::panic, *parser_.panic());
    return channel_error(ChannelError::Kind::exited, "cannot write to the guest console: " + w.error().message);
  }
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (auto r = parser_.take(id)) {
      if (parser_.protocol_error()) return channel_error(ChannelError::Kind::protocol, *parser_.protocol_error());
      return std::move(*r);
    }
    if (Clock::now() >= deadline)
      return channel_error(ChannelError::Kind::timeout,
                           fmt::format("the guest agent did not answer '{}' within {:.0f} s", verb,
                                       timeout.count() / 1000.0));
    auto p = pump(milliseconds(100));
    if (!p) return std::unexpected(p.error());
  }
}

ChannelResult<WriteReply> GuestChannel::write(const std::string& path, const std::string& value,
                                              milliseconds timeout, bool keep_old) {
  std::vector<std::string> args = {path, value};
  if (keep_old) args.push_back("1");
  auto r = call("write", args, timeout);
  if (!r) return std::unexpected(r.error());
  WriteReply w;
  w.rc = r->rc;
  auto field = [&](const char* key) -> ChannelResult<std::optional<std::string>> {
    auto it = r->fields.find(key);
    if (it == r->fields.end() || !util::starts_with(it->second, "x")) return std::nullopt;
    auto v = base64_decode(std::string_view(it->second).substr(1));
    if (!v) return std::unexpected(ChannelError{ChannelError::Kind::protocol, "write reply: " + v.error().message});
    return std::optional<std::string>(std::move(*v));
  };
  auto old = field("old");
  if (!old) return std::unexpected(old.error());
  w.old = std::move(*old);
  if (r->rc == 0 || r->rc == 4) w.readback = r->payload;
  else w.message = util::trim(r->payload);
  if (r->rc == 1) {
    auto now = field("now");
    if (!now) return std::unexpected(now.error());
    w.readback = now->value_or("");
  }
  return w;
}

ChannelResult<Reply> GuestChannel::read(const std::string& path, milliseconds timeout) {
  return call("read", {path}, timeout);
}

ChannelResult<RunReply> GuestChannel::run(const std::vector<std::string>& argv, int guest_timeout_s,
                                          milliseconds grace) {
  std::vector<std::string> args;
  args.reserve(argv.size() + 1);
  args.push_back(std::to_string(guest_timeout_s));
  args.insert(args.end(), argv.begin(), argv.end());
  auto r = call("run", args, milliseconds(guest_timeout_s * 1000LL) + grace);
  if (!r) return std::unexpected(r.error());
  RunReply out;
  out.exit_code = r->rc;
  out.timed_out = field_ll(*r, "timedout") != 0;
  out.seconds = static_cast<double>(field_ll(*r, "elapsed_cs")) / 100.0;
  out.output = std::move(r->payload);
  out.mem_available_min_kb = field_ll(*r, "memmin");
  out.slab_kb = field_ll(*r, "slab");
  out.cached_kb = field_ll(*r, "cached");
  out.pgfault = field_ll(*r, "pgfault");
  out.pgmajfault = field_ll(*r, "pgmajfault");
  out.ctxt = field_ll(*r, "ctxt");
  out.metrics = agent_metrics(*r);
  return out;
}

void GuestChannel::power_off(milliseconds grace) {
  if (child_.running()) {
    int id = next_id_++;
    (void)child_.write_all(encode_command(id, "poweroff", {}));
    auto end = Clock::now() + grace;
    while (child_.running() && Clock::now() < end) {
      auto chunk = child_.read_some(milliseconds(100));
      if (!chunk) break;
      parser_.feed(*chunk);
    }
  }
  kill();
}

void GuestChannel::kill() {
  child_.kill_group(SIGKILL);
  drain(milliseconds(200));
  child_.terminate(milliseconds(0));
}

}  // namespace kerntune::targets::guest
