#include "ssrl/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"

namespace ssrl {
namespace {

using json = nlohmann::json;

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string show(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

struct FieldDef {
  ConfigField info;
  std::function<json(const RunConfig&)> get;
  std::function<void(RunConfig&, const json&)> set;  // value already of the right JSON type
  std::function<void(const RunConfig&)> check;
};

// Ranges: [lo, hi] for integers; for numbers `lo_open` makes the lower bound exclusive.
FieldDef int_field(std::string key, int RunConfig::*m, long long lo, long long hi, bool common,
                   std::string desc) {
  FieldDef f{{key, ValueKind::Integer, common, std::move(desc), {}},
             [m](const RunConfig& c) { return json(c.*m); },
             [m](RunConfig& c, const json& v) { c.*m = static_cast<int>(v.get<long long>()); },
             nullptr};
  f.check = [m, key, lo, hi](const RunConfig& c) {
    if (c.*m < lo || c.*m > hi)
      throw ConfigError(key, "must be an integer in [" + std::to_string(lo) + ", " +
                                 std::to_string(hi) + "] (got " + std::to_string(c.*m) + ")");
  };
  return f;
}

FieldDef num_field(std::string key, double RunConfig::*m, double lo, bool lo_open, double hi,
                   bool common, std::string desc) {
  FieldDef f{{key, ValueKind::Number, common, std::move(desc), {}},
             [m](const RunConfig& c) { return json(c.*m); },
             [m](RunConfig& c, const json& v) { c.*m = v.get<double>(); }, nullptr};
  f.check = [m, key, lo, lo_open, hi](const RunConfig& c) {
    const double v = c.*m;
    const bool ok = std::isfinite(v) && (lo_open ? v > lo : v >= lo) && v <= hi;
    if (!ok) {
      std::string range = lo_open ? "> " + show(lo) : ">= " + show(lo);
      if (std::isfinite(hi)) range += " and <= " + show(hi);
      throw ConfigError(key, "must be a number " + range + " (got " + show(v) + ")");
    }
  };
  return f;
}

FieldDef bool_field(std::string key, bool RunConfig::*m, bool common, std::string desc) {
  return {{key, ValueKind::Boolean, common, std::move(desc), {"on", "off"}},
          [m](const RunConfig& c) { return json(c.*m); },
          [m](RunConfig& c, const json& v) { c.*m = v.get<bool>(); }, nullptr};
}

FieldDef text_field(std::string key, std::string RunConfig::*m, std::vector<std::string> choices,
                    bool common, std::string desc) {
  FieldDef f{{key, ValueKind::Text, common, std::move(desc), choices},
             [m](const RunConfig& c) { return json(c.*m); },
             [m](RunConfig& c, const json& v) { c.*m = v.get<std::string>(); }, nullptr};
  if (!choices.empty()) {
    f.check = [m, key, choices](const RunConfig& c) {
      if (std::find(choices.begin(), choices.end(), c.*m) == choices.end())
        throw ConfigError(key, "unknown value '" + c.*m + "' (accepted: " + join(choices) + ")");
    };
  }
  return f;
}

const double kInf = std::numeric_limits<double>::infinity();

const std::vector<FieldDef>& defs() {
  static const std::vector<FieldDef> table = [] {
    std::vector<FieldDef> t;
    // Identity and resources.
    t.push_back(text_field("dataset", &RunConfig::dataset, {"gaussian"}, true, "data set"));
    t.push_back(text_field("name", &RunConfig::name, {}, true, "run name (free text)"));
    {
      FieldDef f{{"seed", ValueKind::Integer, true, "seed of every random draw of the run", {}},
                 [](const RunConfig& c) { return json(c.seed); },
                 [](RunConfig& c, const json& v) { c.seed = v.get<std::int64_t>(); },
                 [](const RunConfig& c) {
                   if (c.seed < 0) throw ConfigError("seed", "must be an integer >= 0 (got " + std::to_string(c.seed) + ")");
                 }};
      t.push_back(f);
    }
    {
      FieldDef f{{"device", ValueKind::Text, true, "auto, cpu, cuda or cuda:N", {"auto", "cpu", "cuda", "cuda:N"}},
                 [](const RunConfig& c) { return json(c.device); },
                 [](RunConfig& c, const json& v) { c.device = v.get<std::string>(); },
                 [](const RunConfig& c) {
                   const auto& d = c.device;
                   bool ok = d == "auto" || d == "cpu" || d == "cuda";
                   if (!ok && d.rfind("cuda:", 0) == 0 && d.size() > 5)
                     ok = std::all_of(d.begin() + 5, d.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
                   if (!ok) throw ConfigError("device", "unknown device '" + d + "' (accepted: auto, cpu, cuda, cuda:N)");
                 }};
      t.push_back(f);
    }
    t.push_back(int_field("threads", &RunConfig::threads, 1, 256, true,
                          "intra-op CPU threads (1 is fastest for the Gaussian runs on 2 cores)"));
    // Optimisation.
    t.push_back(int_field("epochs", &RunConfig::epochs, 1, 1000000, true, "training epochs"));
    t.push_back(int_field("batch_size", &RunConfig::batch_size, 0, 100000000, true,
                          "minibatch size; 0 = full batch (one update per epoch)"));
    t.push_back(num_field("lr", &RunConfig::lr, 0, true, kInf, true, "SGD learning rate"));
    t.push_back(num_field("momentum", &RunConfig::momentum, 0, false, 0.999999, true, "SGD momentum"));
    t.push_back(num_field("weight_decay", &RunConfig::weight_decay, 0, false, kInf, true, "SGD weight decay"));
    t.push_back(text_field("lr_schedule", &RunConfig::lr_schedule, {"cosine", "constant"}, true,
                           "learning-rate schedule over epochs"));
    t.push_back(int_field("warmup_epochs", &RunConfig::warmup_epochs, 0, 1000000, true,
                          "linear warm-up epochs before the schedule"));
    // Objective and ablations.
    t.push_back(num_field("temperature", &RunConfig::temperature, 0, true, kInf, false,
                          "critic temperature t in cos/t"));
    t.push_back(bool_field("marginal", &RunConfig::marginal, false, "keep the DV marginal term (log E_marginal)"));
    t.push_back(bool_field("predictor", &RunConfig::predictor, false, "trainable predictor head"));
    t.push_back(text_field("alternation", &RunConfig::alternation, {"epoch", "batch"}, false,
                           "SDMI E/M alternation granularity"));
    t.push_back(text_field("loss", &RunConfig::loss, {"neg-cosine", "cos-dv"}, false,
                           "SimSiam objective: negative cosine or cos-DV"));
    t.push_back(num_field("ema_momentum", &RunConfig::ema_momentum, 0, false, 1, false,
                          "base EMA momentum of the target encoder"));
    t.push_back(bool_field("ema_cosine", &RunConfig::ema_cosine, false,
                           "raise the EMA momentum to 1 by a cosine over training"));
    t.push_back(num_field("bt_lambda", &RunConfig::bt_lambda, 0, false, kInf, false,
                          "Barlow Twins off-diagonal weight"));
    t.push_back(num_field("vicreg_sim", &RunConfig::vicreg_sim, 0, false, kInf, false, "VICReg invariance weight"));
    t.push_back(num_field("vicreg_var", &RunConfig::vicreg_var, 0, false, kInf, false, "VICReg variance weight"));
    t.push_back(num_field("vicreg_cov", &RunConfig::vicreg_cov, 0, false, kInf, false, "VICReg covariance weight"));
    t.push_back(num_field("taylor_lambda", &RunConfig::taylor_lambda, 0, false, kInf, false,
                          "Taylor-DV variance weight (0.5 is the second-order cumulant)"));
    t.push_back(int_field("predictor_hidden", &RunConfig::predictor_hidden, 1, 65536, false,
                          "predictor hidden width"));
    // Network and data.
    t.push_back(int_field("hidden_dim", &RunConfig::hidden_dim, 1, 65536, true, "encoder hidden width"));
    t.push_back(int_field("clusters", &RunConfig::clusters, 2, 64, true, "Gaussian clusters"));
    t.push_back(int_field("points_per_cluster", &RunConfig::points_per_cluster, 2, 10000000, true,
                          "points per cluster (train and validation each)"));
    t.push_back(num_field("cluster_sigma", &RunConfig::cluster_sigma, 0, false, kInf, true,
                          "SD of each Gaussian cluster"));
    t.push_back(num_field("view_noise", &RunConfig::view_noise, 0, false, kInf, true,
                          "SD of the view noise added per view"));
    t.push_back(num_field("mi_temperature", &RunConfig::mi_temperature, 0, true, kInf, true,
                          "temperature of the critic in the MI estimates"));
    t.push_back(int_field("mi_block", &RunConfig::mi_block, 1, 1 << 20, true,
                          "row block of the blockwise MI estimates"));
    return t;
  }();
  return table;
}

const FieldDef* find_def(const std::string& key) {
  for (const auto& d : defs())
    if (d.info.key == key) return &d;
  return nullptr;
}

std::vector<std::string> all_keys() {
  std::vector<std::string> keys{"method"};
  for (const auto& d : defs()) keys.push_back(d.info.key);
  return keys;
}

[[noreturn]] void unknown_key(const std::string& key, const std::string& origin) {
  throw ConfigError(key, "unknown setting" + (origin.empty() ? "" : " in " + origin) +
                             " (accepted: " + join(all_keys()) + ")");
}

bool parse_bool(const std::string& s, bool* out) {
  std::string l = s;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  if (l == "on" || l == "true" || l == "1" || l == "yes") return *out = true, true;
  if (l == "off" || l == "false" || l == "0" || l == "no") return *out = false, true;
  return false;
}

// Converts a JSON value to the field's type, or explains what was expected.
json coerce(const FieldDef& def, const json& v) {
  const auto& key = def.info.key;
  switch (def.info.kind) {
    case ValueKind::Integer:
      if (v.is_number_integer()) return v;
      if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
          std::abs(v.get<double>()) < 9e15)
        return json(static_cast<long long>(v.get<double>()));
      throw ConfigError(key, "expects an integer (got " + v.dump() + ")");
    case ValueKind::Number:
      if (v.is_number()) return json(v.get<double>());
      throw ConfigError(key, "expects a number (got " + v.dump() + ")");
    case ValueKind::Boolean: {
      if (v.is_boolean()) return v;
      bool b = false;
      if (v.is_string() && parse_bool(v.get<std::string>(), &b)) return json(b);
      throw ConfigError(key, "expects on or off (got " + v.dump() + ")");
    }
    case ValueKind::Text:
      if (v.is_string()) return v;
      throw ConfigError(key, "expects text (got " + v.dump() + ")");
  }
  return v;
}

json parse_text(const FieldDef& def, const std::string& text) {
  const auto& key = def.info.key;
  switch (def.info.kind) {
    case ValueKind::Integer: {
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE)
        throw ConfigError(key, "expects an integer (got '" + text + "')");
      return json(v);
    }
    case ValueKind::Number: {
      errno = 0;
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || errno == ERANGE)
        throw ConfigError(key, "expects a number (got '" + text + "')");
      if (!std::isfinite(v)) throw ConfigError(key, "must be a finite number (got '" + text + "')");
      return json(v);
    }
    case ValueKind::Boolean: {
      bool b = false;
      if (!parse_bool(text, &b)) throw ConfigError(key, "expects on or off (got '" + text + "')");
      return json(b);
    }
    case ValueKind::Text:
      return json(text);
  }
  return json(text);
}

bool uses_key(const MethodInfo& info, const std::string& key) {
  return std::find(info.uses.begin(), info.uses.end(), key) != info.uses.end();
}

}  // namespace

const std::vector<ConfigField>& config_fields() {
  static const std::vector<ConfigField> fields = [] {
    std::vector<ConfigField> f;
    for (const auto& d : defs()) f.push_back(d.info);
    return f;
  }();
  return fields;
}

const ConfigField* find_config_field(const std::string& key) {
  for (const auto& f : config_fields())
    if (f.key == key) return &f;
  return nullptr;
}

json field_value(const RunConfig& cfg, const std::string& key) {
  if (key == "method") return cfg.method;
  const auto* d = find_def(key);
  if (d == nullptr) unknown_key(key, "");
  return d->get(cfg);
}

ConfigBuilder::ConfigBuilder(const std::string& method) {
  const MethodInfo& info = find_method(method);  // throws for unknown names
  cfg_.method = info.name;
  for (const json* layer : {&info.defaults, &info.fixed}) {
    if (!layer->is_object()) continue;
    for (const auto& [key, value] : layer->items()) {
      const auto* d = find_def(key);
      if (d == nullptr) throw std::logic_error("method " + info.name + " sets unknown key " + key);
      d->set(cfg_, coerce(*d, value));
    }
  }
}

void ConfigBuilder::set_json(const std::string& key, const json& value) {
  if (key == "method") {
    if (!value.is_string() || value.get<std::string>() != cfg_.method)
      throw ConfigError("method", "conflicting methods: '" + cfg_.method + "' and " + value.dump());
    return;
  }
  const auto* d = find_def(key);
  if (d == nullptr) unknown_key(key, "");
  d->set(cfg_, coerce(*d, value));
  explicit_keys_.insert(key);
}

void ConfigBuilder::set(const std::string& key, const std::string& value) {
  if (key == "method") return set_json(key, json(value));
  const auto* d = find_def(key);
  if (d == nullptr) unknown_key(key, "");
  set_json(key, parse_text(*d, value));
}

void ConfigBuilder::merge_json(const json& object, const std::string& origin) {
  if (!object.is_object()) throw ConfigError("", origin + ": expected a JSON object of settings");
  for (const auto& [key, value] : object.items()) {
    if (key == "method" || key == "base_method") continue;  // chosen by the caller
    if (find_def(key) == nullptr) unknown_key(key, origin);
    set_json(key, value);
  }
}

RunConfig ConfigBuilder::build() const {
  const MethodInfo& info = find_method(cfg_.method);
  for (const auto& key : explicit_keys_) {
    const auto* d = find_def(key);
    if (!d->info.common && !uses_key(info, key)) {
      std::vector<std::string> users;
      for (const auto& m : all_methods())
        if (!m.is_variant() && uses_key(m, key)) users.push_back(m.name);
      throw ConfigError(key, "is not a setting of method " + cfg_.method + " (methods that use it: " +
                                 join(users) + ")");
    }
    if (info.fixed.is_object() && info.fixed.contains(key) && d->get(cfg_) != info.fixed[key])
      throw ConfigError(key, "variant " + cfg_.method + " fixes " + key + " = " +
                                 info.fixed[key].dump() + "; use method " + info.base + " to change it");
  }
  validate(cfg_);
  return cfg_;
}

void validate(const RunConfig& cfg) {
  const MethodInfo& info = find_method(cfg.method);
  for (const auto& d : defs())
    if (d.check && (d.info.common || uses_key(info, d.info.key))) d.check(cfg);
  const long long n = static_cast<long long>(cfg.clusters) * cfg.points_per_cluster;
  if (cfg.batch_size == 1)
    throw ConfigError("batch_size", "must be 0 (full batch) or at least 2: batch norm and the marginal term need pairs");
  if (cfg.batch_size > n)
    throw ConfigError("batch_size", "is larger than the training set (" + std::to_string(n) +
                                        " points); use 0 for full batch");
  if (cfg.warmup_epochs >= cfg.epochs && cfg.warmup_epochs > 0)
    throw ConfigError("warmup_epochs", "must be smaller than epochs (" + std::to_string(cfg.epochs) + ")");
  if (info.base == "simsiam" && cfg.loss == "neg-cosine" && !cfg.marginal)
    throw ConfigError("marginal", "applies to simsiam only with loss=cos-dv (negative cosine has no marginal term)");
}

std::vector<std::string> relevant_keys(const RunConfig& cfg) {
  const MethodInfo& info = find_method(cfg.method);
  std::vector<std::string> keys;
  for (const auto& d : defs())
    if (d.info.common || uses_key(info, d.info.key)) keys.push_back(d.info.key);
  return keys;
}

json to_json(const RunConfig& cfg) {
  const MethodInfo& info = find_method(cfg.method);
  json j;
  j["method"] = cfg.method;
  j["base_method"] = info.base;
  for (const auto& key : relevant_keys(cfg)) j[key] = find_def(key)->get(cfg);
  return j;
}

RunConfig config_from_json(const json& object) {
  RunConfig cfg;
  if (object.contains("method") && object["method"].is_string()) cfg.method = object["method"];
  for (const auto& [key, value] : object.items()) {
    const auto* d = find_def(key);
    if (d == nullptr) continue;
    try {
      d->set(cfg, coerce(*d, value));
    } catch (const ConfigError&) {
    }
  }
  return cfg;
}

json read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("config", "cannot read config file '" + path + "'");
  try {
    json j = json::parse(in);
    if (!j.is_object()) throw ConfigError("config", "config file '" + path + "' must hold a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    throw ConfigError("config", "config file '" + path + "' is not valid JSON: " + e.what());
  }
}

std::string method_in_json(const json& object) {
  if (object.is_object() && object.contains("method")) {
    if (!object["method"].is_string()) throw ConfigError("method", "expects a method name (got " + object["method"].dump() + ")");
    return object["method"].get<std::string>();
  }
  return {};
}

std::vector<std::string> resource_dirs() {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("SSRL_RESOURCE_DIR"); env != nullptr && *env != '\0') dirs.push_back(env);
#ifdef SSRL_SOURCE_RESOURCE_DIR
  dirs.push_back(SSRL_SOURCE_RESOURCE_DIR);
#endif
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path().parent_path() / "share" / "ssrl-workbench" / "resources").string());
  std::vector<std::string> existing;
  for (const auto& d : dirs)
    if (fs::is_directory(d, ec) && std::find(existing.begin(), existing.end(), d) == existing.end()) existing.push_back(d);
  return existing;
}

std::vector<std::string> list_presets() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& dir : resource_dirs()) {
    const fs::path root = fs::path(dir) / "presets";
    std::error_code ec;
    if (!fs::is_directory(root, ec)) continue;
    for (const auto& group : fs::directory_iterator(root, ec)) {
      if (!group.is_directory()) continue;
      for (const auto& file : fs::directory_iterator(group.path(), ec)) {
        if (file.path().extension() != ".json") continue;
        const std::string name = group.path().filename().string() + "/" + file.path().stem().string();
        if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
      }
    }
    break;  // the first folder that has presets wins
  }
  std::sort(out.begin(), out.end());
  return out;
}

json load_preset(const std::string& name) {
  namespace fs = std::filesystem;
  const auto names = list_presets();
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw ConfigError("preset", "unknown preset '" + name + "' (accepted: " + join(names) + ")");
  for (const auto& dir : resource_dirs()) {
    const fs::path file = fs::path(dir) / "presets" / (name + ".json");
    if (fs::exists(file)) return read_config_file(file.string());
  }
  throw ConfigError("preset", "preset '" + name + "' disappeared while reading it");
}

std::string batch_label(int batch_size) {
  return batch_size == 0 ? "full" : std::to_string(batch_size);
}

}  // namespace ssrl
