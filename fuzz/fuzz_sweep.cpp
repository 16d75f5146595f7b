// A sweep file: parsed with the nesting bound, counted and expanded by the
// planner. The plan is capped at 200 runs here (max_runs) so that one input
// stays fast; the count before expansion is what is under test.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ssrl/errors.hpp"
#include "ssrl/json_read.hpp"
#include "ssrl/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string error;
  nlohmann::json spec = ssrl::parse_json_bounded(std::string(reinterpret_cast<const char*>(data), size), &error);
  if (!error.empty() || !spec.is_object()) return 0;
  const auto& m = spec.contains("max_runs") ? spec["max_runs"] : nlohmann::json();
  if (!m.is_number_integer() || m.get<long long>() > 200) spec["max_runs"] = 200;
  try {
    const ssrl::SweepPlan plan = ssrl::plan_sweep(spec, "fuzz", false);
    if (plan.runs.size() > 200) __builtin_trap();  // the limit must hold
  } catch (const ssrl::Error&) {
  }
  return 0;
}
