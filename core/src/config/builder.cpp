// Building a config from layered sources (data set and method defaults, a
// preset, a JSON object, typed key=value pairs) and the JSON stored with runs.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "config/fields.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/json_read.hpp"
#include "ssrl/methods.hpp"

namespace ssrl {

using config::apply_layer;
using config::find_def;
using config::join;
using config::relevant;
using config::unknown_key;
using json = nlohmann::json;

ConfigBuilder::ConfigBuilder(const std::string& method, const std::string& dataset) {
  const MethodInfo& info = find_method(method);  // throws for unknown names
  find_dataset(dataset);  // throws for unknown names
  cfg_.method = info.name;
  cfg_.dataset = dataset;
  apply_layer(cfg_, dataset_defaults(dataset), "data set " + dataset);
  apply_layer(cfg_, info.defaults, "method " + info.name);
  if (!is_image_data(dataset)) apply_layer(cfg_, info.gaussian_defaults, "method " + info.name);
  apply_layer(cfg_, info.fixed, "variant " + info.name);
}

void ConfigBuilder::set_json(const std::string& key, const json& value) {
  if (key == "method") {
    if (!value.is_string() || value.get<std::string>() != cfg_.method)
      throw ConfigError("method", "conflicting methods: '" + cfg_.method + "' and " + config::brief(value));
    return;
  }
  if (key == "dataset") {
    if (!value.is_string() || value.get<std::string>() != cfg_.dataset)
      throw ConfigError("dataset", "conflicting data sets: '" + cfg_.dataset + "' and " + config::brief(value) +
                                       " (the data set is chosen first: --dataset, the preset or the config file)");
    return;
  }
  const auto* d = find_def(key);
  if (d == nullptr) unknown_key(key, "");
  d->set(cfg_, config::coerce(*d, value));
  explicit_keys_.insert(key);
}

void ConfigBuilder::set(const std::string& key, const std::string& value) {
  if (key == "method" || key == "dataset") return set_json(key, json(value));
  const auto* d = find_def(key);
  if (d == nullptr) unknown_key(key, "");
  set_json(key, config::parse_text(*d, value));
}

void ConfigBuilder::merge_json(const json& object, const std::string& origin) {
  if (!object.is_object()) throw ConfigError("", origin + ": expected a JSON object of settings");
  for (const auto& [key, value] : object.items()) {
    if (key == "method" || key == "base_method" || key == "dataset") continue;  // chosen by the caller
    if (find_def(key) == nullptr) unknown_key(key, origin);
    set_json(key, value);
  }
}

RunConfig ConfigBuilder::build(bool check_machine) const {
  const MethodInfo& info = find_method(cfg_.method);
  for (const auto& key : explicit_keys_) {
    const auto* d = find_def(key);
    if (!relevant(d->info, info, cfg_.dataset)) {
      if (d->info.scope == Scope::Method) {
        std::vector<std::string> users;
        for (const auto& m : all_methods())
          if (!m.is_variant() && config::uses_key(m, key)) users.push_back(m.name);
        throw ConfigError(key, "is not a setting of method " + cfg_.method + " (methods that use it: " +
                                   join(users) + ")");
      }
      throw ConfigError(key, "is not a setting of data set " + cfg_.dataset + " (it belongs to " +
                                 (d->info.scope == Scope::Gaussian ? "the Gaussian experiment" : "the image data sets") + ")");
    }
    if (info.fixed.is_object() && info.fixed.contains(key) && d->get(cfg_) != info.fixed[key])
      throw ConfigError(key, "variant " + cfg_.method + " fixes " + key + " = " +
                                 info.fixed[key].dump() + "; use method " + info.base + " to change it");
  }
  validate(cfg_, check_machine);
  return cfg_;
}


std::string dataset_in_json(const json& object) {
  if (object.is_object() && object.contains("dataset")) {
    if (!object["dataset"].is_string()) throw ConfigError("dataset", "expects a data set name (got " + config::brief(object["dataset"]) + ")");
    return object["dataset"].get<std::string>();
  }
  return {};
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
  if (object.contains("dataset") && object["dataset"].is_string()) cfg.dataset = object["dataset"];
  for (const auto& [key, value] : object.items()) {
    const auto* d = find_def(key);
    if (d == nullptr) continue;
    try {
      d->set(cfg, config::coerce(*d, value));
    } catch (const ConfigError&) {
    }
  }
  return cfg;
}

RunConfig assemble_config(const ConfigSources& src, bool check_machine) {
  json preset;
  if (!src.preset.empty()) preset = load_preset(src.preset);
  const json empty = json::object();
  const json& object = src.object != nullptr ? *src.object : empty;
  auto typed = [&](const char* key) {
    std::string v;
    for (const auto& [k, value] : src.settings)
      if (k == key) v = value;
    return v;
  };
  std::string method = src.method;
  if (method.empty()) method = typed("method");
  if (method.empty()) method = method_in_json(object);
  if (method.empty()) method = method_in_json(preset);
  if (method.empty())
    throw ConfigError("method", "no method given: use --method, --preset or a config file with \"method\" (accepted: " +
                                    join(method_names()) + ")");
  std::string dataset = typed("dataset");
  if (dataset.empty()) dataset = dataset_in_json(object);
  if (dataset.empty()) dataset = dataset_in_json(preset);
  if (dataset.empty()) dataset = "gaussian";
  ConfigBuilder builder(method, dataset);
  if (!src.preset.empty()) {
    const std::string pm = method_in_json(preset);
    if (!pm.empty() && pm != method && find_method(method).base != pm)
      throw ConfigError("method", "preset " + src.preset + " is for method " + pm + ", not " + method);
    // A data-set preset serves every method: a method setting this method
    // lacks (SimCLR and the ablation's predictor width) is not applied.
    // Typed settings and config files still must fit the method.
    json settings = preset;
    settings.erase("method");
    const MethodInfo& info = find_method(method);
    // "per_method": {"sdmi": {...}} applies to that method, its variants
    // (by base name) or one variant (by its own name), after the rest.
    json own = json::object();
    if (settings.contains("per_method")) {
      const json per = settings["per_method"];
      settings.erase("per_method");
      if (!per.is_object()) throw ConfigError("preset", "preset " + src.preset + ": per_method must be an object");
      for (const auto& [name, values] : per.items()) {
        find_method(name);  // a misspelt name is an error, not a no-op
        if (!values.is_object()) throw ConfigError("preset", "preset " + src.preset + ": per_method." + name + " must be an object");
        if (name == info.base || name == info.name)
          for (const auto& [k, v] : values.items()) own[k] = v;
      }
    }
    settings.update(own);
    for (auto it = settings.begin(); it != settings.end();) {
      const auto* d = find_def(it.key());
      if (d != nullptr && d->info.scope == Scope::Method && !relevant(d->info, info, dataset))
        it = settings.erase(it);
      else
        ++it;
    }
    settings["preset"] = src.preset;
    builder.merge_json(settings, "preset " + src.preset);
  }
  if (src.object != nullptr) builder.merge_json(object, src.object_origin);
  for (const auto& [key, value] : src.settings)
    if (key != "method" && key != "dataset") builder.set(key, value);
  RunConfig cfg = builder.build(check_machine);
  return cfg;
}

json read_config_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError("config", "config file '" + path + "' is a folder, not a file");
  std::ifstream in(path);
  if (!in) throw ConfigError("config", "cannot read config file '" + path + "'");
  // Config and sweep files are a few KB; a bigger one is refused before it is read.
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxConfigFileBytes)
    throw ConfigError("config", "config file '" + path + "' is " + std::to_string(size) + " bytes; the limit is " +
                                    std::to_string(kMaxConfigFileBytes));
  std::string error;
  json j = parse_json_bounded(in, &error);
  if (!error.empty()) throw ConfigError("config", "config file '" + path + "' is not valid JSON: " + error);
  if (!j.is_object()) throw ConfigError("config", "config file '" + path + "' must hold a JSON object");
  return j;
}

std::string method_in_json(const json& object) {
  if (object.is_object() && object.contains("method")) {
    if (!object["method"].is_string()) throw ConfigError("method", "expects a method name (got " + config::brief(object["method"]) + ")");
    return object["method"].get<std::string>();
  }
  return {};
}

}  // namespace ssrl
