#pragma once
// What the method registry says about each method and named variant, as plain
// data for the CLI, the GUI and the stored runs. No torch here.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ssrl {

enum class Paradigm { SDMI, JMI };
const char* paradigm_name(Paradigm p);

struct MethodInfo {
  std::string name;     // as typed: "sdmi", "sdmi-nodv"
  std::string display;  // "SDMI prototype"
  Paradigm paradigm = Paradigm::JMI;
  std::string summary;
  std::string base;                     // the method a variant derives from; == name otherwise
  std::vector<std::string> uses;        // config keys beyond the common ones
  std::vector<std::string> encoders;    // encoders whose centres are tracked: {"f"} or {"f","g"}
  std::string mi_branches;              // which outputs the MI estimates compare
  nlohmann::json defaults;              // the method's own default values
  nlohmann::json fixed;                 // a variant's fixed settings
  // Keys of `uses` that matter only under another setting's value:
  // {"temperature": {"loss": "cos-dv"}} (a sweep does not vary them otherwise).
  nlohmann::json used_only_when;
  bool is_variant() const { return base != name; }
};

// Methods in registry order, then the named variants.
const std::vector<MethodInfo>& all_methods();
// Throws ConfigError("method", ...) listing the accepted names.
const MethodInfo& find_method(const std::string& name);
std::vector<std::string> method_names();

}  // namespace ssrl
