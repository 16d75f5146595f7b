#include "ssrl/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>

#include "config/fields.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"

namespace ssrl {
namespace {

using json = nlohmann::json;

const std::set<std::string> kSweepKeys = {"name", "description", "preset", "method", "methods", "base", "axes", "seeds", "sample",
                                          "max_runs"};

// a * b, saturating instead of wrapping: counts of runs are checked before they exist.
std::uint64_t times(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
  return a * b;
}

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// FNV-1a, 64 bit: a stable digest (std::hash is not stable across builds).
std::string digest(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

struct Axis {
  std::string key;
  std::vector<json> values;   // a list axis
  std::string range;          // uniform | log_uniform | int_uniform ("" = list)
  double lo = 0, hi = 0;
};

Axis read_axis(const std::string& origin, const std::string& key, const json& v, bool sampling) {
  static const std::set<std::string> kNotAxes = {"method", "dataset", "seed", "name", "base_method"};
  if (kNotAxes.count(key))
    throw ConfigError("axes", origin + ": '" + key + "' cannot be an axis (" +
                                  (key == "method" ? "list methods under \"methods\"" : key == "seed" ? "list seeds under \"seeds\"" : "make one sweep per data set") + ")");
  if (find_config_field(key) == nullptr) throw ConfigError("axes", origin + ": unknown setting '" + key + "' as an axis");
  Axis a;
  a.key = key;
  if (v.is_array()) {
    if (v.empty()) throw ConfigError("axes", origin + ": axis '" + key + "' has no values");
    for (const auto& x : v) a.values.push_back(x);
    return a;
  }
  if (v.is_object() && v.size() == 1) {
    const std::string kind = v.begin().key();
    const json& range = v.begin().value();
    if (kind != "uniform" && kind != "log_uniform" && kind != "int_uniform")
      throw ConfigError("axes", origin + ": axis '" + key + "': unknown range '" + kind + "' (accepted: uniform, log_uniform, int_uniform)");
    if (!sampling) throw ConfigError("axes", origin + ": axis '" + key + "' is a range; ranges need \"sample\": {\"count\": N}");
    if (!range.is_array() || range.size() != 2 || !range[0].is_number() || !range[1].is_number() || range[0] > range[1])
      throw ConfigError("axes", origin + ": axis '" + key + "': " + kind + " expects [low, high] with low <= high");
    a.range = kind;
    a.lo = range[0].get<double>();
    a.hi = range[1].get<double>();
    if (kind == "log_uniform" && a.lo <= 0) throw ConfigError("axes", origin + ": axis '" + key + "': log_uniform needs low > 0");
    if (kind == "int_uniform" && (std::floor(a.lo) != a.lo || std::floor(a.hi) != a.hi || std::abs(a.lo) > 9e15 || std::abs(a.hi) > 9e15))
      throw ConfigError("axes", origin + ": axis '" + key + "': int_uniform expects integer bounds within +-9e15");
    return a;
  }
  throw ConfigError("axes", origin + ": axis '" + key + "' must be a list of values" +
                                (sampling ? " or a range such as {\"log_uniform\": [0.01, 0.1]}" : ""));
}

json draw(const Axis& a, std::mt19937_64& rng) {
  if (a.range.empty()) return a.values[std::uniform_int_distribution<std::size_t>(0, a.values.size() - 1)(rng)];
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  if (a.range == "uniform") return a.lo + u * (a.hi - a.lo);
  if (a.range == "log_uniform") return std::exp(std::log(a.lo) + u * (std::log(a.hi) - std::log(a.lo)));
  return static_cast<long long>(std::llround(std::floor(a.lo + u * (a.hi - a.lo + 1 - 1e-9))));
}

std::vector<json> grid(const std::vector<const Axis*>& axes) {
  std::vector<json> points = {json::object()};
  for (const Axis* a : axes) {
    std::vector<json> next;
    for (const auto& p : points)
      for (const auto& v : a->values) {
        json q = p;
        q[a->key] = v;
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

std::vector<std::string> methods_of(const json& spec, const std::string& origin) {
  std::vector<std::string> methods;
  if (spec.contains("methods")) {
    if (spec.contains("method")) throw ConfigError("methods", origin + ": give \"method\" or \"methods\", not both");
    const auto& m = spec["methods"];
    if (!m.is_array() || m.empty()) throw ConfigError("methods", origin + ": \"methods\" must be a non-empty list of method names");
    for (const auto& x : m) {
      if (!x.is_string()) throw ConfigError("methods", origin + ": \"methods\" must list names (got " + config::brief(x) + ")");
      methods.push_back(x.get<std::string>());
    }
  } else if (spec.contains("method")) {
    if (!spec["method"].is_string()) throw ConfigError("method", origin + ": \"method\" must be a name");
    methods.push_back(spec["method"].get<std::string>());
  }
  for (const auto& m : methods) find_method(m);  // ConfigError listing the names
  std::set<std::string> seen;
  for (const auto& m : methods)
    if (!seen.insert(m).second) throw ConfigError("methods", origin + ": method '" + m + "' is listed twice");
  return methods;
}

std::vector<std::int64_t> seeds_of(const json& spec, const std::string& origin, std::uint64_t max_runs) {
  if (!spec.contains("seeds")) return {0};
  const auto& s = spec["seeds"];
  std::vector<std::int64_t> seeds;
  if (s.is_object() && s.contains("count") && s.size() == 1 && s["count"].is_number_integer() && s["count"].get<long long>() > 0) {
    const auto n = s["count"].get<std::uint64_t>();
    if (n > max_runs)  // each seed is at least one run
      throw ConfigError("seeds", origin + ": " + std::to_string(n) + " seeds are more runs than the limit of " +
                                     std::to_string(max_runs) + " (raise \"max_runs\" or --max-runs)");
    for (std::uint64_t i = 0; i < n; ++i) seeds.push_back(static_cast<std::int64_t>(i));
    return seeds;
  }
  if (!s.is_array() || s.empty()) throw ConfigError("seeds", origin + ": \"seeds\" must be a list of integers or {\"count\": N}");
  for (const auto& x : s) {
    if (!x.is_number_integer()) throw ConfigError("seeds", origin + ": seeds must be integers (got " + config::brief(x) + ")");
    seeds.push_back(x.get<std::int64_t>());
  }
  std::set<std::int64_t> seen;
  for (auto v : seeds)
    if (!seen.insert(v).second) throw ConfigError("seeds", origin + ": seed " + std::to_string(v) + " is listed twice");
  return seeds;
}

}  // namespace

std::string point_label(const json& point) {
  std::string out = point.value("method", std::string());
  for (const auto& [k, v] : point.items()) {
    if (k == "method") continue;
    out += (out.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

SweepPlan plan_sweep(const json& spec, const std::string& origin, bool check_machine) {
  if (!spec.is_object()) throw ConfigError("sweep", origin + ": a sweep must be a JSON object");
  for (const auto& [key, value] : spec.items())
    if (!kSweepKeys.count(key)) throw ConfigError("sweep", origin + ": unknown key '" + key + "' (accepted: " + join(kSweepKeys) + ")");
  SweepPlan plan;
  plan.spec = spec;
  if (!spec.contains("name") || !spec["name"].is_string() || spec["name"].get<std::string>().empty())
    throw ConfigError("name", origin + ": a sweep needs a \"name\"");
  plan.name = spec["name"].get<std::string>();
  if (plan.name.size() > kMaxSweepNameLength)
    throw ConfigError("name", origin + ": the name is " + std::to_string(plan.name.size()) + " characters long; the limit is " +
                                  std::to_string(kMaxSweepNameLength));
  if (plan.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != std::string::npos)
    throw ConfigError("name", origin + ": the name " + config::brief(spec["name"]) + " may hold letters, digits, '.', '_' and '-' only");
  std::uint64_t max_runs = kDefaultSweepMaxRuns;
  if (spec.contains("max_runs")) {
    if (!spec["max_runs"].is_number_integer() || spec["max_runs"].get<long long>() < 1)
      throw ConfigError("max_runs", origin + ": \"max_runs\" must be a positive integer");
    max_runs = spec["max_runs"].get<std::uint64_t>();
  }
  std::string preset;
  if (spec.contains("preset")) {
    if (!spec["preset"].is_string()) throw ConfigError("preset", origin + ": \"preset\" must be a preset name");
    preset = spec["preset"].get<std::string>();
  }
  json base = json::object();
  if (spec.contains("base")) {
    if (!spec["base"].is_object()) throw ConfigError("base", origin + ": \"base\" must be an object of settings");
    base = spec["base"];
    if (base.contains("seed")) throw ConfigError("base", origin + ": put seeds under \"seeds\", not in \"base\"");
  }
  std::vector<std::string> methods = methods_of(spec, origin);
  if (methods.empty()) {
    std::string m = method_in_json(base);
    if (m.empty() && !preset.empty()) m = method_in_json(load_preset(preset));
    if (m.empty()) throw ConfigError("methods", origin + ": no method: list \"methods\", or use a preset or base that names one");
    methods.push_back(m);
  }
  base.erase("method");
  bool sampling = false;
  int count = 0;
  std::uint64_t sample_seed = 0;
  if (spec.contains("sample")) {
    const auto& s = spec["sample"];
    if (!s.is_object() || !s.contains("count") || !s["count"].is_number_integer() || s["count"].get<long long>() < 1)
      throw ConfigError("sample", origin + ": \"sample\" must be {\"count\": N, \"seed\": S} with N >= 1");
    for (const auto& [k, v] : s.items())
      if (k != "count" && k != "seed") throw ConfigError("sample", origin + ": unknown key '" + k + "' in \"sample\" (accepted: count, seed)");
    sampling = true;
    if (s["count"].get<std::uint64_t>() > max_runs)
      throw ConfigError("sample", origin + ": \"sample\".count " + std::to_string(s["count"].get<std::uint64_t>()) +
                                      " is more runs than the limit of " + std::to_string(max_runs) +
                                      " (raise \"max_runs\" or --max-runs)");
    count = static_cast<int>(s["count"].get<long long>());
    if (s.contains("seed")) {
      if (!s["seed"].is_number_integer()) throw ConfigError("sample", origin + ": \"sample\".seed must be an integer");
      sample_seed = s["seed"].get<std::uint64_t>();
    }
  }
  std::vector<Axis> axes;
  if (spec.contains("axes")) {
    if (!spec["axes"].is_object()) throw ConfigError("axes", origin + ": \"axes\" must be an object: setting -> list of values");
    for (const auto& [key, value] : spec["axes"].items()) {
      if (base.contains(key)) throw ConfigError("axes", origin + ": '" + key + "' is both in \"base\" and an axis");
      axes.push_back(read_axis(origin, key, value, sampling));
      plan.axes.push_back(key);
    }
  }
  plan.seeds = seeds_of(spec, origin, max_runs);

  // Each method's axes, and the runs they make, counted before any is expanded.
  std::vector<std::vector<const Axis*>> own_axes;
  std::uint64_t total = 0;
  for (const auto& method : methods) {
    // The axes this method has (a sweep over temperature skips BYOL's).
    ConfigSources probe;
    probe.method = method;
    probe.preset = preset;
    probe.object = &base;
    probe.object_origin = origin + " (base)";
    RunConfig defaults;
    try {
      defaults = assemble_config(probe, false);
    } catch (const ConfigError& e) {
      throw ConfigError(e.field(), origin + ", method " + method + ": " + e.what());
    }
    const auto keys = relevant_keys(defaults);
    std::vector<const Axis*> own;
    for (const auto& a : axes)
      if (std::find(keys.begin(), keys.end(), a.key) != keys.end()) own.push_back(&a);
    std::uint64_t size = 1;  // grid points; UINT64_MAX for a range axis
    for (const Axis* a : own) size = a->range.empty() ? times(size, a->values.size()) : UINT64_MAX;
    if (sampling && size < static_cast<std::uint64_t>(count))
      plan.notes.push_back("method " + method + ": \"sample\".count is " + std::to_string(count) + " but the grid has only " +
                           std::to_string(size) + " points; all of them are run");
    const std::uint64_t points = sampling ? std::min<std::uint64_t>(size, static_cast<std::uint64_t>(count)) : size;
    total = std::min<std::uint64_t>(UINT64_MAX - 1, total + times(points, plan.seeds.size()));
    own_axes.push_back(std::move(own));
  }
  if (total > max_runs)
    throw ConfigError("sweep", origin + ": the sweep makes " + (total >= UINT64_MAX - 1 ? "more than 10^19" : std::to_string(total)) +
                                   " runs (methods x grid points x seeds), more than the limit of " + std::to_string(max_runs) +
                                   "; shrink the axes, use \"sample\", or raise \"max_runs\" in the file (or --max-runs)");

  for (std::size_t mi = 0; mi < methods.size(); ++mi) {
    const std::string& method = methods[mi];
    const std::vector<const Axis*>& own = own_axes[mi];
    std::vector<json> points;
    if (!sampling) {
      points = grid(own);
    } else {
      std::uint64_t size = 1;
      for (const Axis* a : own) size = a->range.empty() ? times(size, a->values.size()) : UINT64_MAX;
      if (size <= static_cast<std::uint64_t>(count)) {
        points = grid(own);  // the whole grid is no bigger than the sample
      } else {
        // Distinct points, drawn from a generator seeded per method so that
        // adding a method does not change the others' points.
        std::mt19937_64 rng(sample_seed ^ std::stoull(digest(method), nullptr, 16));
        std::set<std::string> seen;
        for (long long tries = 0; static_cast<int>(points.size()) < count && tries < 1000LL * count; ++tries) {
          json p = json::object();
          for (const Axis* a : own) p[a->key] = draw(*a, rng);
          if (seen.insert(p.dump()).second) points.push_back(std::move(p));
        }
      }
    }
    // A value a point's other settings make inert (SimSiam's temperature
    // under the negative-cosine loss) is dropped, and the duplicates go.
    {
      std::vector<json> kept;
      std::set<std::string> seen;
      for (auto& p : points) {
        json settings = base;
        for (const auto& [k, v] : p.items()) settings[k] = v;
        ConfigSources src;
        src.method = method;
        src.preset = preset;
        src.object = &settings;
        src.object_origin = origin;
        try {
          const auto used = used_keys(assemble_config(src, false));
          for (const auto& a : own)
            if (std::find(used.begin(), used.end(), a->key) == used.end()) p.erase(a->key);
        } catch (const ConfigError&) {
          // reported with the run below
        }
        if (seen.insert(p.dump()).second) kept.push_back(std::move(p));
      }
      points = std::move(kept);
    }
    for (auto& p : points) {
      json settings = base;
      for (const auto& [k, v] : p.items()) settings[k] = v;
      json point = json::object();
      point["method"] = method;
      for (const auto& [k, v] : p.items()) point[k] = v;
      for (auto seed : plan.seeds) {
        settings["seed"] = seed;
        ConfigSources src;
        src.method = method;
        src.preset = preset;
        src.object = &settings;
        src.object_origin = origin + " (" + point_label(point) + " seed=" + std::to_string(seed) + ")";
        SweepRun run;
        run.index = static_cast<int>(plan.runs.size());
        try {
          run.config = assemble_config(src, check_machine);
        } catch (const ConfigError& e) {
          throw ConfigError(e.field(), src.object_origin + ": " + e.what());
        }
        run.point = point;
        plan.runs.push_back(std::move(run));
      }
    }
  }
  // The identity of a sweep is what it runs: the same file gives the same
  // uid, so a second `sweep run` continues the first.
  json identity = {{"name", plan.name}, {"runs", json::array()}};
  for (const auto& r : plan.runs) identity["runs"].push_back(to_json(r.config));
  plan.uid = plan.name + "-" + digest(identity.dump());
  return plan;
}

SweepPlan read_sweep_file(const std::string& path, bool check_machine,
                          const std::vector<std::pair<std::string, std::string>>& overrides, unsigned long long max_runs) {
  const std::string file = find_sweep_file(path);
  json spec;
  try {
    spec = read_config_file(file);
  } catch (const ConfigError& e) {
    throw ConfigError("sweep", std::string(e.what()));
  }
  for (const auto& [key, text] : overrides) {
    if (find_config_field(key) == nullptr) throw ConfigError(key, "unknown setting in --set " + key + "=" + text);
    if (!spec.contains("base")) spec["base"] = json::object();
    if (!spec["base"].is_object()) break;  // plan_sweep names the problem
    spec["base"][key] = config::parse_text(*config::find_def(key), text);  // as `run --set` reads it
    if (spec.contains("axes") && spec["axes"].is_object()) spec["axes"].erase(key);  // --set pins an axis
  }
  if (max_runs > 0 && spec.is_object()) spec["max_runs"] = max_runs;
  return plan_sweep(spec, file, check_machine);
}

std::vector<std::string> list_sweep_files() { return list_resources("sweeps"); }

std::string find_sweep_file(const std::string& name_or_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec)) return name_or_path;
  for (const auto& dir : resource_dirs()) {
    const fs::path p = fs::path(dir) / "sweeps" / (name_or_path + ".json");
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  std::string shipped;
  for (const auto& s : list_sweep_files()) shipped += (shipped.empty() ? "" : ", ") + s;
  throw ConfigError("sweep", "no sweep file '" + name_or_path + "'" + (shipped.empty() ? "" : " (shipped sweeps: " + shipped + ")"));
}

}  // namespace ssrl
