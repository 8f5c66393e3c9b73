#include "kerntune/campaign/objective_rules.hpp"

#include <fmt/format.h>

#include "kerntune/campaign/recipe.hpp"
#include "kerntune/util/text.hpp"

namespace kerntune::campaign {
namespace {

// MemAvailable = MemFree - the zones' low watermarks + reclaimable page cache
// and slab (mm/page_alloc.c si_mem_available); the watermarks are
// min_free_kbytes scaled, spread by watermark_scale_factor, raised by
// watermark_boost_factor; THP at boot raises min_free_kbytes
// (set_recommended_min_free_kbytes). Rows name knobs of the shipped search
// spaces (a test checks it); a metric kerntune adds that a knob enters gets
// its row here and in docs/objectives.md.
constexpr std::string_view kAvail = "MemAvailable subtracts the zones' watermarks, which this knob sets";
constexpr std::string_view kThp = "THP raises min_free_kbytes at boot, which MemAvailable subtracts";
constexpr Redefinition kTable[] = {
    {"sys.mem_available", "vm.min_free_kbytes", kAvail},
    {"sys.mem_available", "vm.watermark_scale_factor", kAvail},
    {"sys.mem_available", "vm.watermark_boost_factor", kAvail},
    {"sys.mem_available", "transparent_hugepage", kThp},
    {"sys.mem_available", "kernel/mm/transparent_hugepage/enabled", kThp},
};

}  // namespace

std::span<const Redefinition> redefinitions() { return kTable; }

std::vector<std::string> redefined_metric_warnings(const Recipe& recipe) {
  std::vector<std::string> out;
  for (const auto& o : recipe.objectives) {
    for (const auto& row : kTable) {
      if (!util::starts_with(o.metric, row.metric_prefix)) continue;
      if (!recipe.space.find(std::string(row.knob))) continue;
      out.push_back(fmt::format(
          "{} '{}' is redefined by tuned parameter '{}' ({}): a gain may be the definition moving, not the "
          "workload; pick a workload-level metric (docs/objectives.md)",
          o.is_objective ? "objective" : "limit metric", o.metric, row.knob, row.why));
    }
  }
  return out;
}

}  // namespace kerntune::campaign
