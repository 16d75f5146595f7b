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
#include "ssrl/trainer.hpp"

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
FieldDef int_field(std::string key, int RunConfig::*m, long long lo, long long hi, Scope scope,
                   std::string desc) {
  FieldDef f{{key, ValueKind::Integer, scope, std::move(desc), {}},
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
                   Scope scope, std::string desc) {
  FieldDef f{{key, ValueKind::Number, scope, std::move(desc), {}},
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

FieldDef bool_field(std::string key, bool RunConfig::*m, Scope scope, std::string desc) {
  return {{key, ValueKind::Boolean, scope, std::move(desc), {"on", "off"}},
          [m](const RunConfig& c) { return json(c.*m); },
          [m](RunConfig& c, const json& v) { c.*m = v.get<bool>(); }, nullptr};
}

FieldDef text_field(std::string key, std::string RunConfig::*m, std::vector<std::string> choices,
                    Scope scope, std::string desc) {
  FieldDef f{{key, ValueKind::Text, scope, std::move(desc), choices},
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
    const Scope A = Scope::All, G = Scope::Gaussian, I = Scope::Image, M = Scope::Method;
    std::vector<FieldDef> t;
    // Identity and resources.
    t.push_back(text_field("dataset", &RunConfig::dataset,
                           {"gaussian", "fashion-mnist", "cifar10", "cifar100", "tiny-imagenet", "imagenet100"}, A, "data set"));
    t.push_back(text_field("name", &RunConfig::name, {}, A, "run name (free text)"));
    {
      FieldDef f{{"seed", ValueKind::Integer, A, "seed of every random draw of the run", {}},
                 [](const RunConfig& c) { return json(c.seed); },
                 [](RunConfig& c, const json& v) { c.seed = v.get<std::int64_t>(); },
                 [](const RunConfig& c) {
                   if (c.seed < 0) throw ConfigError("seed", "must be an integer >= 0 (got " + std::to_string(c.seed) + ")");
                 }};
      t.push_back(f);
    }
    {
      FieldDef f{{"device", ValueKind::Text, A, "auto, cpu, cuda or cuda:N", {"auto", "cpu", "cuda", "cuda:N"}},
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
    t.push_back(int_field("threads", &RunConfig::threads, 1, 256, A,
                          "intra-op CPU threads (1 is fastest for the Gaussian runs on 2 cores)"));
    // Optimisation.
    t.push_back(int_field("epochs", &RunConfig::epochs, 1, 1000000, A, "training epochs"));
    t.push_back(int_field("batch_size", &RunConfig::batch_size, 0, 100000000, A,
                          "minibatch size; 0 = full batch (one update per epoch)"));
    t.push_back(num_field("lr", &RunConfig::lr, 0, true, kInf, A, "SGD learning rate"));
    t.push_back(num_field("momentum", &RunConfig::momentum, 0, false, 0.999999, A, "SGD momentum"));
    t.push_back(num_field("weight_decay", &RunConfig::weight_decay, 0, false, kInf, A, "SGD weight decay"));
    t.push_back(text_field("lr_schedule", &RunConfig::lr_schedule, {"cosine", "constant"}, A,
                           "learning-rate schedule over epochs"));
    t.push_back(int_field("warmup_epochs", &RunConfig::warmup_epochs, 0, 1000000, A,
                          "linear warm-up epochs before the schedule"));
    // Objective and ablations.
    t.push_back(num_field("temperature", &RunConfig::temperature, 0, true, kInf, M, "critic temperature t in cos/t"));
    t.push_back(bool_field("marginal", &RunConfig::marginal, M, "keep the DV marginal term (log E_marginal)"));
    t.push_back(bool_field("predictor", &RunConfig::predictor, M, "trainable predictor head"));
    t.push_back(text_field("alternation", &RunConfig::alternation, {"epoch", "batch"}, M,
                           "SDMI E/M alternation granularity"));
    t.push_back(text_field("loss", &RunConfig::loss, {"neg-cosine", "cos-dv"}, M,
                           "SimSiam objective: negative cosine or cos-DV"));
    t.push_back(num_field("ema_momentum", &RunConfig::ema_momentum, 0, false, 1, M,
                          "base EMA momentum of the target encoder"));
    t.push_back(bool_field("ema_cosine", &RunConfig::ema_cosine, M,
                           "raise the EMA momentum to 1 by a cosine over training"));
    t.push_back(num_field("bt_lambda", &RunConfig::bt_lambda, 0, false, kInf, M, "Barlow Twins off-diagonal weight"));
    t.push_back(num_field("vicreg_sim", &RunConfig::vicreg_sim, 0, false, kInf, M, "VICReg invariance weight"));
    t.push_back(num_field("vicreg_var", &RunConfig::vicreg_var, 0, false, kInf, M, "VICReg variance weight"));
    t.push_back(num_field("vicreg_cov", &RunConfig::vicreg_cov, 0, false, kInf, M, "VICReg covariance weight"));
    t.push_back(num_field("taylor_lambda", &RunConfig::taylor_lambda, 0, false, kInf, M,
                          "Taylor-DV variance weight (0.5 is the second-order cumulant)"));
    t.push_back(int_field("predictor_hidden", &RunConfig::predictor_hidden, 1, 65536, M, "predictor hidden width"));
    // Network.
    t.push_back(text_field("encoder", &RunConfig::encoder, {"auto", "mlp", "small-cnn", "resnet18", "resnet50"}, A,
                           "backbone: mlp (Gaussian), small-cnn, resnet18, resnet50; auto = the data set's own"));
    t.push_back(int_field("hidden_dim", &RunConfig::hidden_dim, 1, 65536, G, "MLP encoder hidden width"));
    t.push_back(int_field("proj_dim", &RunConfig::proj_dim, 2, 65536, I, "projection (embedding) dimension"));
    t.push_back(int_field("proj_layers", &RunConfig::proj_layers, 2, 3, I, "projector layers (2 or 3)"));
    t.push_back(int_field("proj_hidden", &RunConfig::proj_hidden, 1, 65536, I, "projector hidden width"));
    // Gaussian-mixture data.
    t.push_back(int_field("clusters", &RunConfig::clusters, 2, 64, G, "Gaussian clusters"));
    t.push_back(int_field("points_per_cluster", &RunConfig::points_per_cluster, 2, 10000000, G,
                          "points per cluster (train and validation each)"));
    t.push_back(num_field("cluster_sigma", &RunConfig::cluster_sigma, 0, false, kInf, G, "SD of each Gaussian cluster"));
    t.push_back(num_field("view_noise", &RunConfig::view_noise, 0, false, kInf, G, "SD of the view noise added per view"));
    // Image data, augmentation and evaluation.
    t.push_back(text_field("data_dir", &RunConfig::data_dir, {}, I, "folder of the data set's files ('' = its default)"));
    t.push_back(int_field("image_size", &RunConfig::image_size, 0, 1024, I,
                          "image folders: side after resizing (0 = the data set's default)"));
    t.push_back(int_field("train_subset", &RunConfig::train_subset, 0, 100000000, I, "training images used (0 = all)"));
    t.push_back(int_field("val_subset", &RunConfig::val_subset, 2, 10000000, I,
                          "validation images for MI, collapse indicators and kNN"));
    t.push_back(int_field("knn_bank", &RunConfig::knn_bank, 0, 100000000, I,
                          "training images in the kNN bank (0 = no kNN monitor)"));
    t.push_back(int_field("probe_epochs", &RunConfig::probe_epochs, 0, 100000, I,
                          "epochs of the final linear probe (0 = none)"));
    t.push_back(num_field("probe_lr", &RunConfig::probe_lr, 0, true, kInf, I, "linear-probe SGD learning rate"));
    t.push_back(int_field("probe_subset", &RunConfig::probe_subset, 0, 100000000, I,
                          "training images for the probe (0 = all)"));
    t.push_back(int_field("checkpoint_every", &RunConfig::checkpoint_every, 0, 1000000, I,
                          "epochs between checkpoints, and always at the end (0 = only at the end)"));
    t.push_back(int_field("loader_threads", &RunConfig::loader_threads, 1, 64, I, "image decoding threads"));
    t.push_back(num_field("crop_min_scale", &RunConfig::crop_min_scale, 0, true, 1, I, "random resized crop: smallest area fraction"));
    t.push_back(num_field("flip_p", &RunConfig::flip_p, 0, false, 1, I, "horizontal flip probability"));
    t.push_back(num_field("jitter_p", &RunConfig::jitter_p, 0, false, 1, I, "colour jitter probability"));
    t.push_back(num_field("grayscale_p", &RunConfig::grayscale_p, 0, false, 1, I, "grayscale probability"));
    t.push_back(num_field("solarize_p", &RunConfig::solarize_p, 0, false, 1, I,
                          "solarisation probability of the second view (BYOL, MoCo-v3, Barlow Twins)"));
    t.push_back(bool_field("amp", &RunConfig::amp, I, "bfloat16 autocast on CUDA"));
    // MI tracking.
    t.push_back(num_field("mi_temperature", &RunConfig::mi_temperature, 0, true, kInf, A,
                          "temperature of the critic in the MI estimates"));
    t.push_back(int_field("mi_block", &RunConfig::mi_block, 1, 1 << 20, A, "row block of the blockwise MI estimates"));
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

bool relevant(const ConfigField& f, const MethodInfo& info, const std::string& dataset) {
  switch (f.scope) {
    case Scope::All: return true;
    case Scope::Gaussian: return dataset == "gaussian";
    case Scope::Image: return dataset != "gaussian";
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

ConfigBuilder::ConfigBuilder(const std::string& method, const std::string& dataset) {
  const MethodInfo& info = find_method(method);  // throws for unknown names
  const auto& sets = dataset_names();
  if (std::find(sets.begin(), sets.end(), dataset) == sets.end())
    throw ConfigError("dataset", "unknown data set '" + dataset + "' (accepted: " + join(sets) + ")");
  cfg_.method = info.name;
  cfg_.dataset = dataset;
  apply_layer(cfg_, dataset_defaults(dataset), "data set " + dataset);
  apply_layer(cfg_, info.defaults, "method " + info.name);
  apply_layer(cfg_, info.fixed, "variant " + info.name);
}

void ConfigBuilder::set_json(const std::string& key, const json& value) {
  if (key == "method") {
    if (!value.is_string() || value.get<std::string>() != cfg_.method)
      throw ConfigError("method", "conflicting methods: '" + cfg_.method + "' and " + value.dump());
    return;
  }
  if (key == "dataset") {
    if (!value.is_string() || value.get<std::string>() != cfg_.dataset)
      throw ConfigError("dataset", "conflicting data sets: '" + cfg_.dataset + "' and " + value.dump() +
                                       " (the data set is chosen first: --dataset, the preset or the config file)");
    return;
  }
  const auto* d = find_def(key);
  if (d == nullptr) unknown_key(key, "");
  d->set(cfg_, coerce(*d, value));
  explicit_keys_.insert(key);
}

void ConfigBuilder::set(const std::string& key, const std::string& value) {
  if (key == "method" || key == "dataset") return set_json(key, json(value));
  const auto* d = find_def(key);
  if (d == nullptr) unknown_key(key, "");
  set_json(key, parse_text(*d, value));
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
          if (!m.is_variant() && uses_key(m, key)) users.push_back(m.name);
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

void validate(const RunConfig& cfg, bool check_machine) {
  const MethodInfo& info = find_method(cfg.method);
  const auto& sets = dataset_names();
  if (std::find(sets.begin(), sets.end(), cfg.dataset) == sets.end())
    throw ConfigError("dataset", "unknown data set '" + cfg.dataset + "' (accepted: " + join(sets) + ")");
  for (const auto& d : defs())
    if (d.check && relevant(d.info, info, cfg.dataset)) d.check(cfg);
  if (cfg.batch_size == 1)
    throw ConfigError("batch_size", "must be 0 (full batch) or at least 2: batch norm and the marginal term need pairs");
  const bool image = is_image_data(cfg.dataset);
  const std::string enc = resolved_encoder(cfg);
  if (!image && enc != "mlp")
    throw ConfigError("encoder", "the Gaussian experiment uses the MLP encoder (accepted: auto, mlp; got '" + cfg.encoder + "')");
  if (image && enc == "mlp")
    throw ConfigError("encoder", "images need a convolutional encoder (accepted: auto, small-cnn, resnet18, resnet50)");
  if (image && cfg.batch_size == 0)
    throw ConfigError("batch_size", "full batch (0) is a setting of the Gaussian experiment; give a minibatch size");
  if (image && check_machine) {
    namespace fs = std::filesystem;
    const std::string dir = cfg.data_dir.empty() ? default_image_dir(cfg.dataset) : cfg.data_dir;
    if (dir.empty())
      throw ConfigError("data_dir", "data set " + cfg.dataset + " has no default folder: point --data-dir at its files");
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw ConfigError("data_dir", "folder '" + dir + "' for data set " + cfg.dataset + " does not exist" +
                                        (cfg.dataset == "fashion-mnist" && cfg.data_dir.empty()
                                             ? " (install the Debian package dataset-fashion-mnist, or pass --data-dir)"
                                             : ""));
  }
  if (!image) {
    const long long n = static_cast<long long>(cfg.clusters) * cfg.points_per_cluster;
    if (cfg.batch_size > n)
      throw ConfigError("batch_size", "is larger than the training set (" + std::to_string(n) +
                                          " points); use 0 for full batch");
  }
  if (cfg.warmup_epochs >= cfg.epochs && cfg.warmup_epochs > 0)
    throw ConfigError("warmup_epochs", "must be smaller than epochs (" + std::to_string(cfg.epochs) + ")");
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

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"gaussian", "fashion-mnist", "cifar10", "cifar100", "tiny-imagenet", "imagenet100"};
  return names;
}

bool is_image_data(const std::string& dataset) { return dataset != "gaussian"; }

std::string default_image_dir(const std::string& dataset) {
  return dataset == "fashion-mnist" ? "/usr/share/datasets/fashion-mnist" : std::string();
}

json dataset_defaults(const std::string& dataset) {
  if (dataset == "fashion-mnist")
    return {{"encoder", "small-cnn"}, {"epochs", 20},     {"batch_size", 256},  {"lr", 0.05},
            {"weight_decay", 5e-4},   {"proj_dim", 128},  {"proj_layers", 2},   {"proj_hidden", 512},
            {"predictor_hidden", 128}, {"checkpoint_every", 5}};
  if (dataset == "cifar10" || dataset == "cifar100")
    return {{"encoder", "resnet18"}, {"epochs", 300},     {"batch_size", 512},  {"lr", 0.05},
            {"weight_decay", 5e-4},  {"proj_dim", 256},   {"proj_layers", 3},   {"proj_hidden", 2048},
            {"predictor_hidden", 256}};
  if (dataset == "tiny-imagenet")
    return {{"encoder", "resnet18"}, {"epochs", 1000}, {"warmup_epochs", 5}, {"batch_size", 512}, {"lr", 0.05},
            {"weight_decay", 5e-4},  {"proj_dim", 256}, {"proj_layers", 3},   {"proj_hidden", 2048},
            {"predictor_hidden", 256}, {"image_size", 64}, {"val_subset", 1000}};
  if (dataset == "imagenet100")
    return {{"encoder", "resnet50"}, {"epochs", 800}, {"warmup_epochs", 10}, {"batch_size", 256}, {"lr", 0.05},
            {"weight_decay", 1e-4},  {"proj_dim", 256}, {"proj_layers", 3},   {"proj_hidden", 2048},
            {"predictor_hidden", 256}, {"image_size", 224}, {"val_subset", 500}, {"knn_bank", 5000}};
  return json::object();
}

std::string resolved_encoder(const RunConfig& cfg) {
  if (cfg.encoder != "auto") return cfg.encoder;
  if (cfg.dataset == "gaussian") return "mlp";
  if (cfg.dataset == "fashion-mnist") return "small-cnn";
  if (cfg.dataset == "imagenet100") return "resnet50";
  return "resnet18";
}

std::string dataset_in_json(const json& object) {
  if (object.is_object() && object.contains("dataset")) {
    if (!object["dataset"].is_string()) throw ConfigError("dataset", "expects a data set name (got " + object["dataset"].dump() + ")");
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
      d->set(cfg, coerce(*d, value));
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
    for (auto it = settings.begin(); it != settings.end();) {
      const auto* d = find_def(it.key());
      if (d != nullptr && d->info.scope == Scope::Method && !relevant(d->info, info, dataset))
        it = settings.erase(it);
      else
        ++it;
    }
    builder.merge_json(settings, "preset " + src.preset);
  }
  if (src.object != nullptr) builder.merge_json(object, src.object_origin);
  for (const auto& [key, value] : src.settings)
    if (key != "method" && key != "dataset") builder.set(key, value);
  RunConfig cfg = builder.build(check_machine);
  if (check_machine) resolve_device(cfg.device);  // a missing GPU is a config error, found before the run exists
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

std::vector<std::string> list_resources(const std::string& folder) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& dir : resource_dirs()) {
    const fs::path root = fs::path(dir) / folder;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root, ec))
      if (e.is_regular_file() && e.path().extension() == ".json")
        out.push_back(fs::relative(e.path(), root).replace_extension().generic_string());
    break;  // the first folder that has them wins
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> list_presets() { return list_resources("presets"); }

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
