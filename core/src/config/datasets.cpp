// The data sets (docs/science.md §5, §6), declared once.
#include "ssrl/datasets.hpp"

#include <algorithm>

#include "config/fields.hpp"
#include "ssrl/errors.hpp"

namespace ssrl {
namespace {

using json = nlohmann::json;

// The paper's heads for 32x32 images and larger (docs/science.md §6).
json paper_heads() {
  return {{"proj_dim", 256}, {"proj_layers", 3}, {"proj_hidden", 2048}, {"predictor_hidden", 256}};
}

json with(json a, const json& b) {
  a.update(b);
  return a;
}

}  // namespace

const std::vector<DatasetInfo>& datasets() {
  static const std::vector<DatasetInfo> table = {
      {"gaussian", "Gaussian mixture on the sphere (synthetic)", "gaussian", "", "", "", "mlp", 0, 0, 0, {}, {},
       json::object()},
      {"fashion-mnist", "Fashion-MNIST (28×28 grey, 10 classes)", "idx",
       "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
       "t10k-labels-idx1-ubyte[.gz]",
       "/usr/share/datasets/fashion-mnist", "install the Debian package dataset-fashion-mnist, or pass --data-dir",
       "small-cnn", 10, 1, 28, {0.2860f}, {0.3530f},
       {{"epochs", 20}, {"batch_size", 256}, {"lr", 0.05}, {"weight_decay", 5e-4}, {"proj_dim", 128},
        {"proj_layers", 2}, {"proj_hidden", 512}, {"predictor_hidden", 128}, {"checkpoint_every", 5}}},
      {"cifar10", "CIFAR-10 (32×32 colour, 10 classes)", "cifar",
       "data_batch_1.bin … data_batch_5.bin, test_batch.bin (the binary version)", "", "", "resnet18", 10, 3, 32,
       {0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f},
       with({{"epochs", 300}, {"batch_size", 512}, {"lr", 0.05}, {"weight_decay", 5e-4}}, paper_heads())},
      {"cifar100", "CIFAR-100 (32×32 colour, 100 classes)", "cifar", "train.bin, test.bin (the binary version)", "",
       "", "resnet18", 100, 3, 32, {0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f},
       with({{"epochs", 300}, {"batch_size", 512}, {"lr", 0.05}, {"weight_decay", 5e-4}}, paper_heads())},
      {"tiny-imagenet", "Tiny-ImageNet (64×64 image folders, 200 classes)", "folders",
       "train/<class>/**.JPEG, and val/ as shipped (images/ + val_annotations.txt) or as class folders", "", "",
       "resnet18", 200, 3, 64, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f},
       with({{"epochs", 1000}, {"warmup_epochs", 5}, {"batch_size", 512}, {"lr", 0.05}, {"weight_decay", 5e-4},
             {"image_size", 64}, {"val_subset", 1000}},
            paper_heads())},
      {"imagenet100", "ImageNet-100 (image folders, 100 classes)", "folders",
       "train/<class>/*.JPEG, val/<class>/*.JPEG", "", "", "resnet50", 100, 3, 224, {0.485f, 0.456f, 0.406f},
       {0.229f, 0.224f, 0.225f},
       with({{"epochs", 800}, {"warmup_epochs", 10}, {"batch_size", 256}, {"lr", 0.05}, {"weight_decay", 1e-4},
             {"image_size", 224}, {"val_subset", 500}, {"knn_bank", 5000}},
            paper_heads())},
  };
  return table;
}

const DatasetInfo& find_dataset(const std::string& name) {
  for (const auto& d : datasets())
    if (d.name == name) return d;
  const std::string shown = name.size() > 60 ? name.substr(0, 57) + "..." : name;
  throw ConfigError("dataset", "unknown data set '" + shown + "' (accepted: " + config::join(dataset_names()) + ")");
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  for (const auto& d : datasets()) names.push_back(d.name);
  return names;
}

bool is_image_data(const std::string& dataset) {
  const auto& all = datasets();
  const auto it = std::find_if(all.begin(), all.end(), [&](const DatasetInfo& d) { return d.name == dataset; });
  return it != all.end() && it->images();
}

json dataset_defaults(const std::string& dataset) {
  const DatasetInfo& d = find_dataset(dataset);
  json out = d.defaults;
  if (d.images()) out["encoder"] = d.encoder;
  return out;
}

}  // namespace ssrl
