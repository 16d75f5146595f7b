#pragma once
// The run configuration: one plain struct shared by the CLI flags, the GUI
// form and the JSON stored with every run. No torch here.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ssrl/datasets.hpp"

namespace ssrl {

// The GUI box a setting sits in; boxes appear in this order.
enum class SettingGroup { Ablations, Run, Optimiser, Method, Data, Augmentation, Evaluation, MiTracking };
inline constexpr SettingGroup kSettingGroups[] = {
    SettingGroup::Ablations, SettingGroup::Run,          SettingGroup::Optimiser,  SettingGroup::Method,
    SettingGroup::Data,      SettingGroup::Augmentation, SettingGroup::Evaluation, SettingGroup::MiTracking};
const char* group_title(SettingGroup g);

// Which runs a setting belongs to.
enum class Scope {
  All,       // every run
  Gaussian,  // the Gaussian-mixture experiment only
  Image,     // the image data sets only
  Method,    // only the methods that list it
};

// One run's settings. The members are declared in ssrl/settings.def, with
// their types, defaults, ranges and help: read it for the list.
struct RunConfig {
  std::string method = "sdmi";  // as the user typed it; may name a variant
#define SSRL_INT(key, type, def, ...) type key = def;
#define SSRL_NUM(key, def, ...) double key = def;
#define SSRL_BOOL(key, def, ...) bool key = def;
#define SSRL_TEXT(key, def, ...) std::string key = def;
#include "ssrl/settings.def"
};

enum class ValueKind { Integer, Number, Boolean, Text };

// The declaration of one setting (ssrl/settings.def), as data.
struct ConfigField {
  std::string key;
  ValueKind kind;
  Scope scope;
  SettingGroup group;
  bool flag;  // the CLI has --key-with-dashes
  std::string description;
  std::vector<std::string> choices;  // accepted values of a Text field ("" = free text)
  nlohmann::json default_value() const;
  // "[1, 1000000]", "> 0 and <= 1e+06", "on|off", "cosine|constant", "text".
  std::string range() const;
  bool common() const { return scope != Scope::Method; }
};

// Every key a config may hold, in display order.
const std::vector<ConfigField>& config_fields();
const ConfigField* find_config_field(const std::string& key);

// The value of one field rendered as JSON / as text.
nlohmann::json field_value(const RunConfig& cfg, const std::string& key);

// Builds a validated RunConfig from layered sources: the method's defaults,
// then a JSON file, then --set pairs, then explicit flags (later wins).
// Every mistake is a ConfigError naming the field and what it accepts.
class ConfigBuilder {
 public:
  // The data set's defaults come before the method's: both are chosen first.
  explicit ConfigBuilder(const std::string& method, const std::string& dataset = "gaussian");

  const std::string& method() const { return cfg_.method; }
  const std::string& dataset() const { return cfg_.dataset; }

  // Merge a JSON object (a config file). `origin` names it in messages.
  void merge_json(const nlohmann::json& object, const std::string& origin);
  // key=value as typed on a command line.
  void set(const std::string& key, const std::string& value);
  void set_json(const std::string& key, const nlohmann::json& value);

  // Validates everything and returns the config; throws ConfigError.
  // `check_machine` = false skips the data-folder checks.
  RunConfig build(bool check_machine = true) const;
  // The assembled config without the checks that look at the machine (data
  // folders): for benchmarks on synthetic input.
  RunConfig build_unchecked() const { return cfg_; }

 private:
  RunConfig cfg_;
  std::set<std::string> explicit_keys_;
};

// Where a run's settings come from, lowest precedence first: the data set's
// and method's defaults, a preset, a JSON object (a config file, a sweep's
// base and point), then key=value pairs as typed. "method" and "dataset"
// may come from any of them (later wins); the method is required.
struct ConfigSources {
  std::string method;
  std::string preset;          // group/name under resources/presets
  const nlohmann::json* object = nullptr;  // may be null
  std::string object_origin;   // names the object in messages
  std::vector<std::pair<std::string, std::string>> settings;
};
// The validated config; ConfigError naming the field for anything wrong.
// `check_machine` = false skips the checks that look at this machine's data
// folders, for plans made on one machine and run on another. Whether the
// device exists is the engine's to say (resolve_device in ssrl/trainer.hpp).
RunConfig assemble_config(const ConfigSources& sources, bool check_machine = true);

// Parse a JSON config file; ConfigError with the file name on failure (a
// folder, unreadable, over kMaxConfigFileBytes, not JSON, nested too deep).
inline constexpr unsigned long long kMaxConfigFileBytes = 1ULL << 20;
nlohmann::json read_config_file(const std::string& path);

// The method (data set) named in a config file, or "" when it names none.
std::string method_in_json(const nlohmann::json& object);
std::string dataset_in_json(const nlohmann::json& object);

// The encoder a config's "auto" stands for (its data set's own).
std::string resolved_encoder(const RunConfig& cfg);

// Full checks of an assembled config (ranges, choices, method's own rules,
// and, with `check_machine`, that the data folder exists).
void validate(const RunConfig& cfg, bool check_machine = true);

// The keys that matter for this config's method (common + method's own).
std::vector<std::string> relevant_keys(const RunConfig& cfg);

// The relevant keys this config's other settings do not make inert (SimSiam's
// temperature under the negative-cosine loss): what a sweep may vary.
std::vector<std::string> used_keys(const RunConfig& cfg);

// JSON of the relevant keys, plus "base_method"; what is stored with a run.
nlohmann::json to_json(const RunConfig& cfg);
// Rebuild a config from stored JSON (lenient about keys it does not know).
RunConfig config_from_json(const nlohmann::json& object);

}  // namespace ssrl

namespace ssrl {

// Folders searched for shipped resources (presets, example configs): the
// source tree's resources/ in a build tree, then <prefix>/share/ssrl-workbench.
std::vector<std::string> resource_dirs();
// The JSON files under <resource dir>/<folder>/ as sorted names without the
// extension ("group/name"), from the first resource dir that has the folder.
std::vector<std::string> list_resources(const std::string& folder);

// Presets under <resource dir>/presets/<group>/<name>.json, as "group/name".
std::vector<std::string> list_presets();
// The preset's settings; ConfigError naming the preset when unknown or broken.
nlohmann::json load_preset(const std::string& name);

}  // namespace ssrl
