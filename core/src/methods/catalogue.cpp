// The catalogue: every method's description (from its file) and the named
// variants, as plain data. No torch here.
#include "methods/registry.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"

#include <algorithm>

namespace ssrl {

#define SSRL_DECLARE(id) MethodInfo id##_info();
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

const std::vector<MethodInfo>& all_methods() {
  static const std::vector<MethodInfo> all = [] {
    std::vector<MethodInfo> out;
#define SSRL_ENTRY(id) out.push_back(id##_info());
    SSRL_METHODS(SSRL_ENTRY)
#undef SSRL_ENTRY
    for (auto& info : out) info.base = info.name;
    const std::size_t bases = out.size();
    for (const auto& v : variants()) {
      const auto parent = std::find_if(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(bases),
                                       [&](const MethodInfo& m) { return m.name == v.base; });
      MethodInfo info = *parent;
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
  const std::string shown = name.size() > 60 ? name.substr(0, 57) + "..." : name;
  throw ConfigError("method", "unknown method '" + shown + "' (accepted: " + accepted + ")");
}

HeadLayers head_layers(const MethodInfo& m, const nlohmann::json& settings, const std::string& in) {
  auto num = [&](const char* key) { return std::to_string(settings.at(key).get<long long>()); };
  auto linear = [](const std::string& a, const std::string& b, bool bias) {
    return "Linear(" + a + ", " + b + (bias ? ", bias)" : ", no bias)");
  };
  HeadLayers out;
  const int layers = settings.at("proj_layers").get<int>();
  const std::string hidden = num("proj_hidden"), dim = num("proj_dim");
  std::string c = in;
  for (int i = 0; i + 1 < layers; ++i) {
    out.projector.push_back(linear(c, hidden, m.head.hidden_bias));
    if (m.head.hidden_bn) out.projector.push_back("BatchNorm1d(" + hidden + ")");
    out.projector.push_back("ReLU");
    c = hidden;
  }
  out.projector.push_back(linear(c, dim, m.head.out_bias));
  const std::string norm = settings.at("proj_out_norm").get<std::string>();
  if (norm == "bn") out.projector.push_back("BatchNorm1d(" + dim + ", affine=false)");
  if (norm == "bn-affine") out.projector.push_back("BatchNorm1d(" + dim + ")");
  if (settings.value("predictor", false)) {
    const std::string ph = num("predictor_hidden");
    out.predictor = {linear(dim, ph, m.head.pred_hidden_bias), "BatchNorm1d(" + ph + ")", "ReLU",
                     linear(ph, dim, m.head.pred_out_bias)};
  }
  return out;
}

const char* paradigm_name(Paradigm p) { return p == Paradigm::SDMI ? "SDMI" : "JMI"; }

}  // namespace ssrl
