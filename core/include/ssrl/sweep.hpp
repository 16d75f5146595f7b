#pragma once
// Sweeps: a base config (or a preset) and axes to vary, over methods and
// seeds, expanded into a fixed list of runs. Plain structs, no torch.
//
// A sweep file is a JSON object:
//   {"name": "cifar10-grid",                 // letters, digits, . _ -
//    "preset": "cifar10/simclr",             // optional
//    "methods": ["sdmi", "simclr"],          // or "method"; else the preset's
//    "base": {"dataset": "gaussian", "epochs": 30},   // settings for every run
//    "axes": {"lr": [0.01, 0.03, 0.05], "temperature": [0.05, 0.1]},
//    "seeds": [0, 1, 2],                     // or {"count": 3}; default [0]
//    "sample": {"count": 10, "seed": 0},     // optional: random points instead of the grid
//    "max_runs": 10000}                      // optional: refuse a bigger plan (default kDefaultSweepMaxRuns)
// An axis a method does not have (temperature for BYOL) is left out for that
// method, so it is not run once per value. With "sample", an axis may also
// be a range: {"uniform": [a, b]}, {"log_uniform": [a, b]} or
// {"int_uniform": [a, b]}.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssrl/config.hpp"

namespace ssrl {

// Runs are counted before they are expanded; a plan above the limit is refused
// with its count. Sampling draws points without building the grid.
inline constexpr unsigned long long kDefaultSweepMaxRuns = 10000;
inline constexpr std::size_t kMaxSweepNameLength = 100;

struct SweepRun {
  int index = 0;          // position in the plan, from 0
  RunConfig config;       // validated
  nlohmann::json point;   // {"method": ..., axis: value, ...}; the seed is not part of it
};

struct SweepPlan {
  std::string name;
  std::string uid;                // stable digest of the canonical spec
  nlohmann::json spec;            // as read
  std::vector<std::string> axes;  // axis keys, in file order
  std::vector<std::int64_t> seeds;
  std::vector<SweepRun> runs;
  std::vector<std::string> notes;  // for the user, e.g. a sample larger than the grid
};

// Expands a sweep; ConfigError naming the sweep (`origin`), the key and,
// for a bad combination, the run. `check_machine` as in assemble_config.
SweepPlan plan_sweep(const nlohmann::json& spec, const std::string& origin, bool check_machine = true);
// Reads and expands a sweep file (ConfigError if unreadable). `overrides`
// (key=value as typed) go into its "base", e.g. data_dir for this machine.
// `max_runs` (0: the file's own, else kDefaultSweepMaxRuns) is written into the
// spec, so it travels with the sweep to its workers.
SweepPlan read_sweep_file(const std::string& path, bool check_machine = true,
                          const std::vector<std::pair<std::string, std::string>>& overrides = {},
                          unsigned long long max_runs = 0);
// A shipped sweep by name ("paper/cifar10"), from <resource dir>/sweeps.
std::vector<std::string> list_sweep_files();
std::string find_sweep_file(const std::string& name_or_path);

// The point as text, e.g. "sdmi lr=0.05 temperature=0.1".
std::string point_label(const nlohmann::json& point);

}  // namespace ssrl
