#pragma once
// What the method registry says about each method and named variant, as plain
// data for the CLI, the GUI and the stored runs. No torch here.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ssrl {

struct RunConfig;

enum class Paradigm { SDMI, JMI };
const char* paradigm_name(Paradigm p);

// The projector and predictor of the image encoders, as the method's published
// code builds them (the Gaussian experiment's encoder is docs/science.md §5's, shared by
// every method). Layer count and widths are settings (proj_layers,
// proj_hidden, proj_dim, predictor_hidden; docs/science.md §6 fixes them per data set);
// the output normalisation is the setting proj_out_norm, whose default is
// the method's.
struct HeadInfo {
  bool hidden_bias = true;       // Linear bias on the projector's hidden layers
  bool hidden_bn = true;         // BatchNorm (affine) after each hidden Linear
  bool out_bias = true;          // Linear bias on the projector's output layer
  bool pred_hidden_bias = true;  // the predictor's first Linear
  bool pred_out_bias = true;     // the predictor's second Linear
  std::string loss_input;        // what the loss takes: "raw projection", ...
  std::string source;            // repository and file the head follows
};

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
  nlohmann::json gaussian_defaults;     // ... overridden on the Gaussian experiment (its 3-d toy embedding)
  nlohmann::json fixed;                 // a variant's fixed settings
  // Keys of `uses` that matter only under another setting's value:
  // {"temperature": {"loss": "cos-dv"}} (a sweep does not vary them otherwise).
  nlohmann::json used_only_when;
  HeadInfo head;
  // Checks of settings that only this method has (throws ConfigError).
  void (*check)(const RunConfig&) = nullptr;
  bool is_variant() const { return base != name; }
};

// Methods in registry order, then the named variants.
const std::vector<MethodInfo>& all_methods();
// Throws ConfigError("method", ...) listing the accepted names.
const MethodInfo& find_method(const std::string& name);
std::vector<std::string> method_names();

// The image projector and predictor as layer lists, e.g. "Linear(F, 2048,
// bias)", "BatchNorm1d(2048)", "ReLU", for the widths in `proj_hidden`,
// `proj_dim`, `predictor_hidden`, `proj_layers` and `proj_out_norm`;
// `in` names the backbone width. Empty predictor when the method has none.
struct HeadLayers {
  std::vector<std::string> projector, predictor;
};
HeadLayers head_layers(const MethodInfo& m, const nlohmann::json& settings, const std::string& in);
}  // namespace ssrl
