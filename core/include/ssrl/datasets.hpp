#pragma once
// The data sets, declared once: everything the CLI, the GUI, validation and
// the loaders need to know of each. Adding a data set is one entry in
// core/src/config/datasets.cpp plus, for a new file format, its loader.
// No torch here.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ssrl {

struct DatasetInfo {
  std::string name;         // as typed: "cifar10"
  std::string title;        // "CIFAR-10 (32×32 colour, 10 classes)"
  std::string format;       // the loader that reads it: gaussian | idx | cifar | folders
  std::string files;        // what its folder holds (messages, help, README)
  std::string default_dir;  // read from here without --data-dir ("" = must be given)
  std::string hint;         // how to get the default folder ("" = none)
  std::string encoder;      // the encoder "auto" stands for
  int classes = 0;
  int channels = 0;
  int image_size = 0;       // side of the images as trained (folders: after resizing)
  std::vector<float> mean, std;  // per-channel normalisation of [0, 1] pixels
  nlohmann::json defaults;  // the settings this data set brings (epochs, lr, heads...)
  bool images() const { return format != "gaussian"; }
};

// In display order; the first is the default.
const std::vector<DatasetInfo>& datasets();
// ConfigError("dataset", ...) listing the accepted names.
const DatasetInfo& find_dataset(const std::string& name);
std::vector<std::string> dataset_names();
bool is_image_data(const std::string& dataset);
// The defaults a data set brings, its encoder included.
nlohmann::json dataset_defaults(const std::string& dataset);

}  // namespace ssrl
