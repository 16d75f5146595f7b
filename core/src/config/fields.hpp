#pragma once
// The settings table behind ssrl/config.hpp: each field with its accessors
// and range check, built from ssrl/settings.def. Internal to config/.

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssrl/config.hpp"
#include "ssrl/methods.hpp"

namespace ssrl::config {

using json = nlohmann::json;

struct FieldDef {
  ConfigField info;
  json default_value;
  std::string range;  // as ConfigField::range() shows it
  std::function<json(const RunConfig&)> get;
  // The value is already of the field's JSON type; refuses what does not fit
  // the member (an integer out of range) before storing it.
  std::function<void(RunConfig&, const json&)> set;
  std::function<void(const RunConfig&)> check;  // may be empty
};

const std::vector<FieldDef>& defs();
const FieldDef* find_def(const std::string& key);
[[noreturn]] void unknown_key(const std::string& key, const std::string& origin);

// A JSON value converted to the field's type, or ConfigError saying what was expected.
json coerce(const FieldDef& def, const json& v);
// key=value text as typed, converted to the field's type.
json parse_text(const FieldDef& def, const std::string& text);

// Does the setting matter for this method on this data set?
bool relevant(const ConfigField& f, const MethodInfo& info, const std::string& dataset);
bool uses_key(const MethodInfo& info, const std::string& key);
// Sets every key of a defaults layer (a data set's, a method's); the layers
// are the program's own, so an unknown key is a programming error.
void apply_layer(RunConfig& cfg, const json& layer, const std::string& who);

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");
// A short rendering of a value for messages: long or deep values are cut.
std::string brief(const json& v);
std::string show(double v);

}  // namespace ssrl::config
