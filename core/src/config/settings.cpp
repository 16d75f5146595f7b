// The settings table, built from ssrl/settings.def: accessors, conversions
// from JSON and from typed text, range checks.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "config/fields.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/records.hpp"
#include "ssrl/text.hpp"

namespace ssrl {
namespace config {
namespace {

std::vector<std::string> split_choices(const char* text) {
  std::vector<std::string> out;
  std::string s = text;
  for (std::size_t start = 0; !s.empty();) {
    const auto bar = s.find('|', start);
    out.push_back(s.substr(start, bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return out;
}

ConfigField info(const char* key, ValueKind kind, Scope scope, SettingGroup group, bool flag, const char* help,
                 std::vector<std::string> choices = {}) {
  return {key, kind, scope, group, flag, help, std::move(choices)};
}

template <class T>
FieldDef int_field(const char* key, T RunConfig::*m, T def, long long lo, long long hi, Scope scope, SettingGroup group,
                   bool flag, const char* help) {
  FieldDef f;
  f.info = info(key, ValueKind::Integer, scope, group, flag, help);
  f.default_value = def;
  f.range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  f.get = [m](const RunConfig& c) { return json(c.*m); };
  const std::string k = key, range = f.range;
  // Checked in 64 bits before narrowing: 4294967301 epochs is an error, not 5.
  auto refuse = [k, range](const std::string& got) {
    throw ConfigError(k, "must be an integer in " + range + " (got " + got + ")");
  };
  f.set = [m, lo, hi, refuse](RunConfig& c, const json& v) {
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) refuse(v.dump());
    const long long x = v.get<long long>();
    if (x < lo || x > hi) refuse(std::to_string(x));
    c.*m = static_cast<T>(x);
  };
  f.check = [m, lo, hi, refuse](const RunConfig& c) {
    if (c.*m < lo || c.*m > hi) refuse(std::to_string(c.*m));
  };
  return f;
}

FieldDef num_field(const char* key, double RunConfig::*m, double def, double lo, bool lo_open, double hi, Scope scope,
                   SettingGroup group, bool flag, const char* help) {
  FieldDef f;
  f.info = info(key, ValueKind::Number, scope, group, flag, help);
  f.default_value = def;
  f.range = (lo_open ? "> " : ">= ") + show(lo) + (std::isfinite(hi) ? " and <= " + show(hi) : "");
  f.get = [m](const RunConfig& c) { return json(c.*m); };
  f.set = [m](RunConfig& c, const json& v) { c.*m = v.get<double>(); };
  const std::string k = key, range = f.range;
  f.check = [m, k, range, lo, lo_open, hi](const RunConfig& c) {
    const double v = c.*m;
    if (!(std::isfinite(v) && (lo_open ? v > lo : v >= lo) && v <= hi))
      throw ConfigError(k, "must be a number " + range + " (got " + show(v) + ")");
  };
  return f;
}

FieldDef bool_field(const char* key, bool RunConfig::*m, bool def, Scope scope, SettingGroup group, bool flag,
                    const char* help) {
  FieldDef f;
  f.info = info(key, ValueKind::Boolean, scope, group, flag, help, {"on", "off"});
  f.default_value = def;
  f.range = "on|off";
  f.get = [m](const RunConfig& c) { return json(c.*m); };
  f.set = [m](RunConfig& c, const json& v) { c.*m = v.get<bool>(); };
  return f;
}

FieldDef text_field(const char* key, std::string RunConfig::*m, const char* def, const char* choices, Scope scope,
                    SettingGroup group, bool flag, const char* help) {
  FieldDef f;
  f.info = info(key, ValueKind::Text, scope, group, flag, help, split_choices(choices));
  f.default_value = def;
  f.range = *choices ? choices : "text";
  f.get = [m](const RunConfig& c) { return json(c.*m); };
  f.set = [m](RunConfig& c, const json& v) { c.*m = v.get<std::string>(); };
  const std::string k = key;
  const auto accepted = f.info.choices;
  if (!accepted.empty()) {
    f.check = [m, k, accepted](const RunConfig& c) {
      if (std::find(accepted.begin(), accepted.end(), c.*m) == accepted.end())
        throw ConfigError(k, "unknown value '" + c.*m + "' (accepted: " + join(accepted) + ")");
    };
  }
  return f;
}

// Settings whose accepted values are not a fixed list.
void special_checks(std::vector<FieldDef>& table) {
  for (auto& f : table) {
    if (f.info.key == "device") {
      f.check = [](const RunConfig& c) {
        const auto& d = c.device;
        bool ok = d == "auto" || d == "cpu" || d == "cuda";
        if (!ok && d.rfind("cuda:", 0) == 0 && d.size() > 5 && d.size() < 9)
          ok = std::all_of(d.begin() + 5, d.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
        if (!ok) throw ConfigError("device", "unknown device '" + d + "' (accepted: auto, cpu, cuda, cuda:N)");
      };
    } else if (f.info.key == "name" || f.info.key == "data_dir") {
      // Free text: capped, so a 5 MB name never reaches the database.
      const std::size_t limit = f.info.key == "name" ? kMaxRunNameLength : 4096;
      const std::string key = f.info.key;
      const auto member = key == "name" ? &RunConfig::name : &RunConfig::data_dir;
      f.check = [key, limit, member](const RunConfig& c) {
        if ((c.*member).size() > limit)
          throw ConfigError(key, "is " + std::to_string((c.*member).size()) + " bytes long; the limit is " + std::to_string(limit));
      };
    } else if (f.info.key == "dataset") {
      f.info.choices = dataset_names();
      f.range = join(f.info.choices, "|");
      f.check = [](const RunConfig& c) { find_dataset(c.dataset); };
    }
  }
}

bool parse_bool(const std::string& s, bool* out) {
  std::string l = s;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  if (l == "on" || l == "true" || l == "1" || l == "yes") return *out = true, true;
  if (l == "off" || l == "false" || l == "0" || l == "no") return *out = false, true;
  return false;
}

}  // namespace

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string show(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string brief(const json& v) {
  if (v.is_structured()) return v.is_object() ? "an object" : "a list";
  // Invalid UTF-8 (typed bytes) is shown replaced, never thrown from here.
  std::string s = v.is_string() && v.get_ref<const std::string&>().size() > 200
                      ? json(v.get_ref<const std::string&>().substr(0, 200)).dump(-1, ' ', false, json::error_handler_t::replace)
                      : v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

const std::vector<FieldDef>& defs() {
  static const std::vector<FieldDef> table = [] {
    std::vector<FieldDef> t;
#define SSRL_INT(key, type, def, lo, hi, scope, group, flag, help) \
  t.push_back(int_field<type>(#key, &RunConfig::key, def, lo, hi, Scope::scope, SettingGroup::group, flag, help));
#define SSRL_NUM(key, def, lo, lo_open, hi, scope, group, flag, help) \
  t.push_back(num_field(#key, &RunConfig::key, def, lo, lo_open, hi, Scope::scope, SettingGroup::group, flag, help));
#define SSRL_BOOL(key, def, scope, group, flag, help) \
  t.push_back(bool_field(#key, &RunConfig::key, def, Scope::scope, SettingGroup::group, flag, help));
#define SSRL_TEXT(key, def, choices, scope, group, flag, help) \
  t.push_back(text_field(#key, &RunConfig::key, def, choices, Scope::scope, SettingGroup::group, flag, help));
#include "ssrl/settings.def"
    special_checks(t);
    return t;
  }();
  return table;
}

const FieldDef* find_def(const std::string& key) {
  for (const auto& d : defs())
    if (d.info.key == key) return &d;
  return nullptr;
}

void unknown_key(const std::string& key, const std::string& origin) {
  std::vector<std::string> keys{"method"};
  for (const auto& d : defs()) keys.push_back(d.info.key);
  const std::string shown = key.size() > 60 ? key.substr(0, 57) + "..." : key;
  throw ConfigError(shown, "unknown setting" + (origin.empty() ? "" : " in " + origin) + " (accepted: " + join(keys) + ")");
}

json coerce(const FieldDef& def, const json& v) {
  const auto& key = def.info.key;
  switch (def.info.kind) {
    case ValueKind::Integer:
      if (v.is_number_integer()) return v;
      if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() && std::abs(v.get<double>()) < 9e15)
        return json(static_cast<long long>(v.get<double>()));
      throw ConfigError(key, "expects an integer (got " + brief(v) + ")");
    case ValueKind::Number:
      if (v.is_number()) return json(v.get<double>());
      throw ConfigError(key, "expects a number (got " + brief(v) + ")");
    case ValueKind::Boolean: {
      if (v.is_boolean()) return v;
      bool b = false;
      if (v.is_string() && parse_bool(v.get<std::string>(), &b)) return json(b);
      throw ConfigError(key, "expects on or off (got " + brief(v) + ")");
    }
    case ValueKind::Text:
      if (v.is_string()) return v;
      throw ConfigError(key, "expects text (got " + brief(v) + ")");
  }
  return v;
}

json parse_text(const FieldDef& def, const std::string& text) {
  const auto& key = def.info.key;
  const std::string shown = brief(json(text));
  switch (def.info.kind) {
    case ValueKind::Integer: {
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0') throw ConfigError(key, "expects an integer (got " + shown + ")");
      if (errno == ERANGE) throw ConfigError(key, "must be an integer in " + def.range + " (got " + shown + ")");
      return json(v);
    }
    case ValueKind::Number: {
      errno = 0;
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') throw ConfigError(key, "expects a number (got " + shown + ")");
      if (errno == ERANGE || !std::isfinite(v))
        throw ConfigError(key, "must be a finite number " + def.range + " (got " + shown + ")");
      return json(v);
    }
    case ValueKind::Boolean: {
      bool b = false;
      if (!parse_bool(text, &b)) throw ConfigError(key, "expects on or off (got " + shown + ")");
      return json(b);
    }
    case ValueKind::Text:
      if (!valid_utf8(text)) throw ConfigError(key, "is not valid UTF-8 text (got " + shown + ")");
      return json(text);
  }
  return json(text);
}

bool uses_key(const MethodInfo& info, const std::string& key) {
  return std::find(info.uses.begin(), info.uses.end(), key) != info.uses.end();
}

bool relevant(const ConfigField& f, const MethodInfo& info, const std::string& dataset) {
  switch (f.scope) {
    case Scope::All: return true;
    case Scope::Gaussian: return !is_image_data(dataset);
    case Scope::Image: return is_image_data(dataset);
    case Scope::Method: return uses_key(info, f.key);
  }
  return false;
}

void apply_layer(RunConfig& cfg, const json& layer, const std::string& who) {
  if (!layer.is_object()) return;
  for (const auto& [key, value] : layer.items()) {
    const auto* d = find_def(key);
    if (d == nullptr) throw std::logic_error(who + " sets unknown key " + key);
    d->set(cfg, coerce(*d, value));
  }
}

}  // namespace config

const char* group_title(SettingGroup g) {
  switch (g) {
    case SettingGroup::Ablations: return "Ablations";
    case SettingGroup::Run: return "Run";
    case SettingGroup::Optimiser: return "Optimiser (SGD)";
    case SettingGroup::Method: return "Method";
    case SettingGroup::Data: return "Data and encoder";
    case SettingGroup::Augmentation: return "Augmentation";
    case SettingGroup::Evaluation: return "Evaluation";
    case SettingGroup::MiTracking: return "MI tracking";
  }
  return "";
}

const std::vector<ConfigField>& config_fields() {
  static const std::vector<ConfigField> fields = [] {
    std::vector<ConfigField> f;
    for (const auto& d : config::defs()) f.push_back(d.info);
    return f;
  }();
  return fields;
}

const ConfigField* find_config_field(const std::string& key) {
  for (const auto& f : config_fields())
    if (f.key == key) return &f;
  return nullptr;
}

nlohmann::json ConfigField::default_value() const { return config::find_def(key)->default_value; }

std::string ConfigField::range() const { return config::find_def(key)->range; }

nlohmann::json field_value(const RunConfig& cfg, const std::string& key) {
  if (key == "method") return cfg.method;
  const auto* d = config::find_def(key);
  if (d == nullptr) config::unknown_key(key, "");
  return d->get(cfg);
}

}  // namespace ssrl
