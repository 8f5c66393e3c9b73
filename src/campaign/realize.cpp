#include "kerntune/campaign/realize.hpp"

namespace kerntune::campaign {
namespace {

std::string kernel_text(const space::Value& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "1" : "0";
  return space::to_string(v);
}

}  // namespace

std::string render_cmdline(const space::Space& space, const space::Assignment& a) {
  std::string out;
  for (const auto& p : space.parameters()) {
    if (p.domain != space::Domain::cmdline) continue;
    auto it = a.find(p.name);
    if (it == a.end()) continue;
    std::string word;
    if (const bool* b = std::get_if<bool>(&it->second)) {
      if (!*b) continue;
      word = p.name;
    } else {
      word = p.name + "=" + space::to_string(it->second);
    }
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

targets::TrialRequest realize(const space::Space& space, const space::Assignment& a, int seq) {
  targets::TrialRequest r;
  r.seq = seq;
  r.params = space::to_json(a);
  r.boot.cmdline = render_cmdline(space, a);
  for (const auto& p : space.parameters()) {
    auto it = a.find(p.name);
    if (it == a.end()) continue;
    if (p.domain == space::Domain::sysctl) r.sysctls.emplace_back(p.name, kernel_text(it->second));
    if (p.domain == space::Domain::sysfs) r.sysfs.emplace_back(p.name, kernel_text(it->second));
  }
  return r;
}

AppliedRecord applied_record(const space::Space& space, const space::Assignment& proposed,
                             const targets::TrialOutcome& out) {
  AppliedRecord r;
  r.effective = out.effective.is_object() ? out.effective : nlohmann::json::object();
  r.effective.erase("adjusted");
  r.effective.erase("early_stop");  // kerntune's own keys, never a target's
  space::Effective eff = space::compare_effective(space, proposed, r.effective, out.refused);
  // A failed trial may not have applied what it did not report: only an ok one fills in the proposal.
  for (const auto& [name, value] : eff.values)
    if (out.ok || r.effective.contains(name)) r.effective[name] = space::to_json(value);
  for (const auto& a : eff.adjusted) {
    if (a.how == space::Adjustment::How::unreadable) r.effective[a.parameter] = a.effective;  // as reported
    r.effective["adjusted"].push_back(space::to_json(a));
  }
  r.adjusted = std::move(eff.adjusted);
  return r;
}

}  // namespace kerntune::campaign
