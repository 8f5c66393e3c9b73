#include "kerntune/results/cost.hpp"

#include <algorithm>
#include <map>

#include "kerntune/stats/stats.hpp"

namespace kerntune::results {

std::string cost_kind(const Trial& t) {
  auto stage = [&](const char* name) { return t.timings.contains(name) && t.timings.at(name) > 0; };
  return stage("build")           ? "kernel build"
         : stage("boot")          ? "reboot"
         : stage("snapshot_load") ? "restored"
                                  : "reused";
}

std::vector<TrialCost> trial_costs(const std::vector<Trial>& trials) {
  std::map<std::string, std::vector<double>> by_kind;
  for (const auto& t : trials)
    if (t.seconds() > 0) by_kind[cost_kind(t)].push_back(t.seconds());
  std::vector<TrialCost> out;
  for (auto& [kind, secs] : by_kind) out.push_back({kind, static_cast<int>(secs.size()), stats::median(secs)});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.median_seconds > b.median_seconds; });
  return out;
}

std::vector<double> change_costs(const std::vector<Trial>& trials, const std::function<int(const std::string&)>& tier_of) {
  auto stage = [](const Trial& t, const char* name) {
    auto it = t.timings.find(name);
    return it == t.timings.end() || !(it->second > 0) ? 0.0 : it->second;
  };
  std::vector<double> own, boots, builds, loads;
  for (const auto& t : trials) {
    if (!(t.seconds() > 0)) continue;
    const double boot = stage(t, "boot"), build = stage(t, "build"), load = stage(t, "snapshot_load");
    own.push_back(std::max(0.0, t.seconds() - boot - build - load));
    if (boot > 0) boots.push_back(boot);
    if (build > 0) builds.push_back(build);
    if (load > 0) loads.push_back(load);
  }
  if (own.empty()) return {};
  // Does the target keep its boot when only run-time knobs change? Evidence:
  // search trials that changed nothing of tier >= 1 from the previous search
  // trial on the same worker. None yet: assume it does (the first such trial
  // tells).
  int stayed = 0, stayed_and_booted = 0;
  std::map<std::string, const Trial*> previous;  // worker → its last search trial
  for (const auto& t : trials) {
    if (!is_search(t.kind)) continue;
    if (auto it = previous.find(t.worker); it != previous.end() && !t.worker.empty()) {
      // The dearest parameter set, changed or dropped from one to the other.
      auto dearest_change = [&](const nlohmann::json& from, const nlohmann::json& to) {
        int tier = 0;
        for (const auto& [name, value] : from.items())
          if (!to.contains(name) || to.at(name) != value) tier = std::max(tier, tier_of(name));
        return tier;
      };
      const int tier = std::max(dearest_change(t.params, it->second->params), dearest_change(it->second->params, t.params));
      if (tier == 0 && t.seconds() > 0) {
        ++stayed;
        stayed_and_booted += stage(t, "boot") > 0;
      }
    }
    previous[t.worker] = &t;
  }
  const bool keeps_boot = stayed == 0 || 2 * stayed_and_booted <= stayed;
  const double base = stats::median(own);
  const double boot = boots.empty() ? 0 : stats::median(boots);
  const double build = builds.empty() ? 0 : stats::median(builds);
  const double load = loads.empty() ? 0 : stats::median(loads);
  return {base + (keeps_boot ? load : boot), base + boot, base + boot + build};
}

Remaining remaining(const std::vector<Trial>& trials, std::optional<int> budget, int confirm_top, int confirm_rounds,
                    double now) {
  Remaining r;
  int searched = 0;
  std::vector<double> durations, confirming, ends;
  for (const auto& t : trials) {
    searched += is_search(t.kind);
    if (t.finished_at > 0) ends.push_back(t.finished_at);
    if (t.seconds() <= 0) continue;
    durations.push_back(t.seconds());
    if (t.kind == TrialKind::confirm || t.kind == TrialKind::rebaseline) confirming.push_back(t.seconds());
  }
  // The confirmation phase still to come: each of the top candidates on
  // `rounds` fresh runs, each run paired with a baseline run; what it has run
  // is every trial after the last search trial (its rebaselines too, not
  // only its confirm trials).
  int phase_done = 0;
  for (std::size_t i = search_phase_end(trials); i < trials.size(); ++i)
    phase_done += trials[i].kind == TrialKind::confirm || trials[i].kind == TrialKind::rebaseline;
  if (confirm_top > 0 && confirm_rounds > 0) {
    const int per_candidate = 2 * confirm_rounds;
    const int planned = confirm_top * per_candidate;
    // Past the planned candidates, a fallback confirmation (the next pick,
    // when every confirmed one broke a limit: noise.confirm_fallback) is
    // under way: what is left of its rounds. Whether another fallback follows
    // is not known before this one ends.
    r.confirmation_left = phase_done < planned ? planned - phase_done
                                               : (per_candidate - (phase_done - planned) % per_candidate) % per_candidate;
  }
  if (budget) r.search_left = std::max(0, *budget - searched);
  if (!budget || durations.empty()) return r;
  // Wall time per trial, the optimizer and gaps between trials included: the
  // median time between one trial's end and the next (a campaign stopped and
  // resumed hours later is one such interval, which the median ignores; with
  // several workers it is the pool's throughput).
  std::sort(ends.begin(), ends.end());
  std::vector<double> gaps;
  for (std::size_t i = 1; i < ends.size(); ++i) gaps.push_back(ends[i] - ends[i - 1]);
  const double per = gaps.empty() ? stats::median(durations) : stats::median(gaps);
  const double per_confirming = confirming.empty() ? per : stats::median(confirming);
  double eta = r.search_left * per + r.confirmation_left * per_confirming;
  const double since_last = std::max(0.0, now - (ends.empty() ? now : ends.back()));
  if (r.search_left + r.confirmation_left > 0) eta -= std::min(since_last, r.search_left > 0 ? per : per_confirming);
  r.eta_seconds = std::max(0.0, eta);
  return r;
}

}  // namespace kerntune::results
