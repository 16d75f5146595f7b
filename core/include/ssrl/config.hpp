#pragma once
// The run configuration: one plain struct shared by the CLI flags, the GUI
// form and the JSON stored with every run. No torch here.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ssrl {

struct RunConfig {
  // What to run.
  std::string method = "sdmi";  // as the user typed it; may name a variant
  std::string dataset = "gaussian";
  std::string name;
  std::int64_t seed = 0;
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
  int threads = 1;              // intra-op threads of this run

  // Optimisation (SGD with momentum; cosine annealing per epoch).
  int epochs = 100;
  int batch_size = 500;  // 0 = full batch (one update per epoch)
  double lr = 0.5;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string lr_schedule = "cosine";  // cosine | constant
  int warmup_epochs = 0;

  // Objective and ablations (used by some methods only).
  double temperature = 0.1;
  bool marginal = true;
  bool predictor = false;
  std::string alternation = "epoch";  // SDMI: epoch | batch
  std::string loss = "neg-cosine";    // SimSiam: neg-cosine | cos-dv
  double ema_momentum = 0.996;
  bool ema_cosine = true;
  double bt_lambda = 5e-3;
  double vicreg_sim = 25.0;
  double vicreg_var = 25.0;
  double vicreg_cov = 1.0;
  double taylor_lambda = 0.5;
  int predictor_hidden = 64;

  // Network (Gaussian experiment: Linear(2,h) BN ReLU Linear(h,3) BN, L2).
  int hidden_dim = 64;

  // Gaussian-mixture data (SPEC §5).
  int clusters = 5;
  int points_per_cluster = 500;
  double cluster_sigma = 0.05;
  double view_noise = 0.1;

  // MI tracking on the validation set (SPEC §4).
  double mi_temperature = 1.0;
  int mi_block = 256;

  // Real image data (SPEC §6).
  std::string data_dir;          // "" = the data set's default folder
  std::string encoder = "auto";  // auto | mlp | small-cnn | resnet18 | resnet50
  int proj_dim = 256;
  int proj_layers = 3;
  int proj_hidden = 2048;
  int image_size = 0;       // image folders: side after resizing; 0 = the data set's default
  int train_subset = 0;     // training images used; 0 = all
  int val_subset = 2000;    // validation images for MI, collapse indicators and kNN
  int knn_bank = 10000;     // training images in the kNN bank; 0 = no kNN monitor
  int probe_epochs = 30;    // linear probe on frozen features at the end; 0 = none
  double probe_lr = 0.1;
  int probe_subset = 0;     // training images for the probe; 0 = all
  int checkpoint_every = 10;  // epochs between checkpoints (and always at the end)
  int loader_threads = 2;
  double crop_min_scale = 0.08;
  double flip_p = 0.5;
  double jitter_p = 0.8;
  double grayscale_p = 0.2;
  double solarize_p = 0.2;  // second view of BYOL, MoCo-v3 and Barlow Twins only
  bool amp = true;          // bfloat16 autocast on CUDA
};

enum class ValueKind { Integer, Number, Boolean, Text };

// Which runs a setting belongs to.
enum class Scope {
  All,       // every run
  Gaussian,  // the Gaussian-mixture experiment only
  Image,     // the image data sets only
  Method,    // only the methods that list it
};

struct ConfigField {
  std::string key;
  ValueKind kind;
  Scope scope;
  std::string description;
  std::vector<std::string> choices;  // accepted values of a Text field
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
// `check_machine` = false skips the checks that look at this machine (data
// folders, a GPU), for plans made on one machine and run on another.
RunConfig assemble_config(const ConfigSources& sources, bool check_machine = true);

// Parse a JSON config file; DataError/ConfigError with the file name on failure.
nlohmann::json read_config_file(const std::string& path);

// The method (data set) named in a config file, or "" when it names none.
std::string method_in_json(const nlohmann::json& object);
std::string dataset_in_json(const nlohmann::json& object);

// The data sets, and the defaults each brings (lr, batch size, encoder...).
const std::vector<std::string>& dataset_names();
nlohmann::json dataset_defaults(const std::string& dataset);
bool is_image_data(const std::string& dataset);
// Where a data set's files are looked for without --data-dir ("" = nowhere).
std::string default_image_dir(const std::string& dataset);
// The encoder a config's "auto" stands for.
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

// "full" for 0, else the number.
std::string batch_label(int batch_size);

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
