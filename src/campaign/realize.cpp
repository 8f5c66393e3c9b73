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

}  // namespace kerntune::campaign
