#pragma once
// Image backbones: N x C x H x W images in, N x out_features() features out.
#include <torch/torch.h>

#include <memory>
#include <string>

namespace ssrl {

struct Backbone : torch::nn::Module {
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual std::int64_t out_features() const = 0;
};

// small-cnn | resnet18 | resnet50; ConfigError for any other name.
std::shared_ptr<Backbone> make_backbone(const std::string& name, std::int64_t in_channels);

}  // namespace ssrl
