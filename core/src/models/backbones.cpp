// The backbones of docs/science.md §6: a small CNN for CPU-sized runs, ResNet-18/50
// with the small-image stem.
#include "models/backbones.hpp"

#include "training/distributed.hpp"
#include "ssrl/errors.hpp"

namespace ssrl {
namespace {

torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride, std::int64_t pad) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

// Four conv blocks (32-64-128-256), stride 2 from the second, global average
// pool: ~0.4 M parameters, sized for CPU runs on 28x28 and 32x32 images.
struct SmallCnn : Backbone {
  explicit SmallCnn(std::int64_t in) {
    const std::int64_t widths[] = {32, 64, 128, 256};
    std::int64_t c = in;
    for (int i = 0; i < 4; ++i) {
      convs.push_back(register_module("conv" + std::to_string(i), conv(c, widths[i], 3, i == 0 ? 1 : 2, 1)));
      bns.push_back(register_module("bn" + std::to_string(i), torch::nn::BatchNorm2d(widths[i])));
      c = widths[i];
    }
  }
  torch::Tensor forward(const torch::Tensor& in) override {
    torch::Tensor x = in;
    for (std::size_t i = 0; i < convs.size(); ++i) x = torch::relu(dist::norm(bns[i], convs[i](x)));
    return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  }
  std::int64_t out_features() const override { return 256; }
  std::vector<torch::nn::Conv2d> convs;
  std::vector<torch::nn::BatchNorm2d> bns;
};

struct BasicBlock : torch::nn::Module {
  BasicBlock(std::int64_t in, std::int64_t out, std::int64_t stride)
      : c1(register_module("conv1", conv(in, out, 3, stride, 1))),
        b1(register_module("bn1", torch::nn::BatchNorm2d(out))),
        c2(register_module("conv2", conv(out, out, 3, 1, 1))),
        b2(register_module("bn2", torch::nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      down = register_module("down", conv(in, out, 1, stride, 0));
      down_bn = register_module("down_bn", torch::nn::BatchNorm2d(out));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = dist::norm(b2, c2(torch::relu(dist::norm(b1, c1(x)))));
    return torch::relu(y + (down ? dist::norm(down_bn, down(x)) : x));
  }
  torch::nn::Conv2d c1;
  torch::nn::BatchNorm2d b1;
  torch::nn::Conv2d c2;
  torch::nn::BatchNorm2d b2;
  torch::nn::Conv2d down{nullptr};
  torch::nn::BatchNorm2d down_bn{nullptr};
};

struct Bottleneck : torch::nn::Module {
  Bottleneck(std::int64_t in, std::int64_t mid, std::int64_t stride)
      : c1(register_module("conv1", conv(in, mid, 1, 1, 0))),
        b1(register_module("bn1", torch::nn::BatchNorm2d(mid))),
        c2(register_module("conv2", conv(mid, mid, 3, stride, 1))),
        b2(register_module("bn2", torch::nn::BatchNorm2d(mid))),
        c3(register_module("conv3", conv(mid, mid * 4, 1, 1, 0))),
        b3(register_module("bn3", torch::nn::BatchNorm2d(mid * 4))) {
    if (stride != 1 || in != mid * 4) {
      down = register_module("down", conv(in, mid * 4, 1, stride, 0));
      down_bn = register_module("down_bn", torch::nn::BatchNorm2d(mid * 4));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(dist::norm(b1, c1(x)));
    y = torch::relu(dist::norm(b2, c2(y)));
    y = dist::norm(b3, c3(y));
    return torch::relu(y + (down ? dist::norm(down_bn, down(x)) : x));
  }
  torch::nn::Conv2d c1;
  torch::nn::BatchNorm2d b1;
  torch::nn::Conv2d c2;
  torch::nn::BatchNorm2d b2;
  torch::nn::Conv2d c3;
  torch::nn::BatchNorm2d b3;
  torch::nn::Conv2d down{nullptr};
  torch::nn::BatchNorm2d down_bn{nullptr};
};

// ResNet with the small-image stem of docs/science.md §8: 3x3 convolution, stride 1,
// padding 1, no max-pool.
struct ResNet : Backbone {
  ResNet(std::int64_t in, bool bottleneck, const std::vector<int>& layers) {
    stem = register_module("stem", conv(in, 64, 3, 1, 1));
    stem_bn = register_module("stem_bn", torch::nn::BatchNorm2d(64));
    std::int64_t c = 64;
    const std::int64_t widths[] = {64, 128, 256, 512};
    for (int s = 0; s < 4; ++s) {
      for (int b = 0; b < layers[static_cast<std::size_t>(s)]; ++b) {
        const std::int64_t stride = (s > 0 && b == 0) ? 2 : 1;
        const std::string name = "layer" + std::to_string(s + 1) + "_" + std::to_string(b);
        if (bottleneck) {
          auto blk = register_module(name, std::make_shared<Bottleneck>(c, widths[s], stride));
          blocks.push_back([blk](const torch::Tensor& x) { return blk->forward(x); });
          c = widths[s] * 4;
        } else {
          auto blk = register_module(name, std::make_shared<BasicBlock>(c, widths[s], stride));
          blocks.push_back([blk](const torch::Tensor& x) { return blk->forward(x); });
          c = widths[s];
        }
      }
    }
    out_ = c;
  }
  std::int64_t out_features() const override { return out_; }
  torch::Tensor forward(const torch::Tensor& in) override {
    auto x = torch::relu(dist::norm(stem_bn, stem(in)));
    for (auto& b : blocks) x = b(x);
    return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  }
  torch::nn::Conv2d stem{nullptr};
  torch::nn::BatchNorm2d stem_bn{nullptr};
  std::vector<std::function<torch::Tensor(const torch::Tensor&)>> blocks;
  std::int64_t out_ = 0;
};

}  // namespace

std::shared_ptr<Backbone> make_backbone(const std::string& name, std::int64_t in_channels) {
  if (name == "small-cnn") return std::make_shared<SmallCnn>(in_channels);
  if (name == "resnet18") return std::make_shared<ResNet>(in_channels, false, std::vector<int>{2, 2, 2, 2});
  if (name == "resnet50") return std::make_shared<ResNet>(in_channels, true, std::vector<int>{3, 4, 6, 3});
  throw ConfigError("encoder", "unknown image encoder '" + name + "' (accepted: small-cnn, resnet18, resnet50)");
}

}  // namespace ssrl
