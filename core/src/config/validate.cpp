// Checks of an assembled config, and which settings matter for it.
#include <algorithm>
#include <filesystem>

#include "config/fields.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"

namespace ssrl {

using config::defs;
using config::relevant;
using json = nlohmann::json;

void validate(const RunConfig& cfg, bool check_machine) {
  const MethodInfo& info = find_method(cfg.method);
  const DatasetInfo& data = find_dataset(cfg.dataset);
  for (const auto& d : defs())
    if (d.check && relevant(d.info, info, cfg.dataset)) d.check(cfg);
  if (cfg.batch_size == 1)
    throw ConfigError("batch_size", "must be 0 (full batch) or at least 2: batch norm and the marginal term need pairs");
  const bool image = data.images();
  const std::string enc = resolved_encoder(cfg);
  if (!image && enc != "mlp")
    throw ConfigError("encoder", "the Gaussian experiment uses the MLP encoder (accepted: auto, mlp; got '" + cfg.encoder + "')");
  if (image && enc == "mlp")
    throw ConfigError("encoder", "images need a convolutional encoder (accepted: auto, small-cnn, resnet18, resnet50)");
  if (image && cfg.batch_size == 0)
    throw ConfigError("batch_size", "full batch (0) is a setting of the Gaussian experiment; give a minibatch size");
  if (image && check_machine) {
    namespace fs = std::filesystem;
    const std::string dir = cfg.data_dir.empty() ? data.default_dir : cfg.data_dir;
    if (dir.empty())
      throw ConfigError("data_dir", "data set " + cfg.dataset + " has no default folder: point --data-dir at its files");
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw ConfigError("data_dir", "folder '" + dir + "' for data set " + cfg.dataset + " does not exist" +
                                        (cfg.data_dir.empty() && !data.hint.empty() ? " (" + data.hint + ")" : ""));
  }
  if (!image) {
    const long long n = static_cast<long long>(cfg.clusters) * cfg.points_per_cluster;
    if (cfg.batch_size > n)
      throw ConfigError("batch_size", "is larger than the training set (" + std::to_string(n) +
                                          " points); use 0 for full batch");
  }
  if (cfg.warmup_epochs >= cfg.epochs && cfg.warmup_epochs > 0)
    throw ConfigError("warmup_epochs", "must be smaller than epochs (" + std::to_string(cfg.epochs) + ")");
  if (const auto check = find_method(info.base).check) check(cfg);
  if (info.base == "simsiam" && cfg.loss == "neg-cosine" && !cfg.marginal)
    throw ConfigError("marginal", "applies to simsiam only with loss=cos-dv (negative cosine has no marginal term)");
}

std::vector<std::string> relevant_keys(const RunConfig& cfg) {
  const MethodInfo& info = find_method(cfg.method);
  std::vector<std::string> keys;
  for (const auto& d : defs())
    if (relevant(d.info, info, cfg.dataset)) keys.push_back(d.info.key);
  return keys;
}

std::vector<std::string> used_keys(const RunConfig& cfg) {
  const MethodInfo& info = find_method(cfg.method);
  const json& when = find_method(info.base).used_only_when;
  std::vector<std::string> keys;
  for (const auto& key : relevant_keys(cfg)) {
    bool used = true;
    if (when.is_object() && when.contains(key))
      for (const auto& [other, value] : when[key].items()) used = used && field_value(cfg, other) == value;
    if (used) keys.push_back(key);
  }
  return keys;
}

std::string resolved_encoder(const RunConfig& cfg) {
  return cfg.encoder != "auto" ? cfg.encoder : find_dataset(cfg.dataset).encoder;
}

}  // namespace ssrl
