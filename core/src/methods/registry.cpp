// The method registry. Adding a method: one file in this folder defining
// `MethodSpec <id>_spec()`, one line in SSRL_METHODS, and its test.
#include "../method.hpp"
#include "ssrl/errors.hpp"

// clang-format off
#define SSRL_METHODS(X) \
  X(sdmi)               \
  X(jmi)                \
  X(simsiam)            \
  X(byol)               \
  X(mocov3)             \
  X(simclr)             \
  X(barlow_twins)       \
  X(vicreg)             \
  X(taylor_dv)
// clang-format on

namespace ssrl {

#define SSRL_DECLARE(id) MethodSpec id##_spec();
SSRL_METHODS(SSRL_DECLARE)
#undef SSRL_DECLARE

namespace {

// Named variants: a base method with some settings fixed.
struct Variant {
  const char* name;
  const char* base;
  const char* display;
  const char* summary;
  nlohmann::json fixed;
};

const std::vector<Variant>& variants() {
  static const std::vector<Variant> v = {
      {"sdmi-nodv", "sdmi", "SDMI-NoDV", "SDMI without the marginal (DV) term: joint term only",
       {{"marginal", false}}},
      {"sdmi-nodv-pred", "sdmi", "SDMI-NoDV-Pred", "SDMI without the marginal term, with predictors on f and g",
       {{"marginal", false}, {"predictor", true}}},
      {"simsiam-nopred", "simsiam", "SimSiam-NoPred", "SimSiam without its predictor",
       {{"predictor", false}}},
      {"simsiam-sdmi", "simsiam", "SimSiam-SDMI",
       "SimSiam's single-encoder stop-gradient schedule, no predictor, cos-DV loss",
       {{"predictor", false}, {"loss", "cos-dv"}}},
  };
  return v;
}

}  // namespace

const std::vector<MethodSpec>& method_specs() {
#define SSRL_ENTRY(id) id##_spec(),
  static const std::vector<MethodSpec> specs = {SSRL_METHODS(SSRL_ENTRY)};
#undef SSRL_ENTRY
  return specs;
}

const MethodSpec& find_spec(const std::string& base_name) {
  for (const auto& s : method_specs())
    if (s.info.name == base_name) return s;
  throw ConfigError("method", "no method named '" + base_name + "'");
}

const std::vector<MethodInfo>& all_methods() {
  static const std::vector<MethodInfo> all = [] {
    std::vector<MethodInfo> out;
    for (const auto& s : method_specs()) {
      MethodInfo info = s.info;
      info.base = info.name;
      out.push_back(info);
    }
    for (const auto& v : variants()) {
      MethodInfo info = find_spec(v.base).info;
      info.name = v.name;
      info.base = v.base;
      info.display = v.display;
      info.summary = v.summary;
      info.fixed = v.fixed;
      out.push_back(info);
    }
    return out;
  }();
  return all;
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& m : all_methods()) names.push_back(m.name);
  return names;
}

const MethodInfo& find_method(const std::string& name) {
  for (const auto& m : all_methods())
    if (m.name == name) return m;
  std::string accepted;
  for (const auto& n : method_names()) accepted += (accepted.empty() ? "" : ", ") + n;
  throw ConfigError("method", "unknown method '" + name + "' (accepted: " + accepted + ")");
}

const char* paradigm_name(Paradigm p) { return p == Paradigm::SDMI ? "SDMI" : "JMI"; }

}  // namespace ssrl
