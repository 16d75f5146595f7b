#include "nets.hpp"

#include <cmath>

#include "distributed.hpp"
#include "ssrl/errors.hpp"

namespace F = torch::nn::functional;

namespace ssrl {
namespace {

torch::Tensor unit(const torch::Tensor& z) { return F::normalize(z, F::NormalizeFuncOptions().dim(1).eps(1e-12)); }

torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride, std::int64_t pad) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

// Four conv blocks (32-64-128-256), stride 2 from the second, global average
// pool: ~0.4 M parameters, sized for CPU runs on 28x28 and 32x32 images.
struct SmallCnn : torch::nn::Module {
  explicit SmallCnn(std::int64_t in) {
    const std::int64_t widths[] = {32, 64, 128, 256};
    std::int64_t c = in;
    for (int i = 0; i < 4; ++i) {
      convs.push_back(register_module("conv" + std::to_string(i), conv(c, widths[i], 3, i == 0 ? 1 : 2, 1)));
      bns.push_back(register_module("bn" + std::to_string(i), torch::nn::BatchNorm2d(widths[i])));
      c = widths[i];
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t i = 0; i < convs.size(); ++i) x = torch::relu(dist::norm(bns[i], convs[i](x)));
    return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  }
  static constexpr std::int64_t kOut = 256;
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

// ResNet with the small-image stem of SPEC §8: 3x3 convolution, stride 1,
// padding 1, no max-pool.
struct ResNet : torch::nn::Module {
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
    out = c;
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(dist::norm(stem_bn, stem(x)));
    for (auto& b : blocks) x = b(x);
    return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  }
  torch::nn::Conv2d stem{nullptr};
  torch::nn::BatchNorm2d stem_bn{nullptr};
  std::vector<std::function<torch::Tensor(const torch::Tensor&)>> blocks;
  std::int64_t out = 0;
};

struct Projector : torch::nn::Module {
  Projector(std::int64_t in, std::int64_t hidden, std::int64_t out, int layers) {
    std::int64_t c = in;
    for (int i = 0; i < layers; ++i) {
      const std::int64_t o = i + 1 == layers ? out : hidden;
      linears.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(c, o)));
      bns.push_back(register_module("bn" + std::to_string(i), torch::nn::BatchNorm1d(o)));
      c = o;
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t i = 0; i < linears.size(); ++i) {
      x = dist::norm(bns[i], linears[i](x));
      if (i + 1 < linears.size()) x = torch::relu(x);
    }
    return x;
  }
  std::vector<torch::nn::Linear> linears;
  std::vector<torch::nn::BatchNorm1d> bns;
};

template <class Backbone>
struct ImageEncoder : EncoderNet {
  ImageEncoder(std::shared_ptr<Backbone> b, std::int64_t feat, const ImageEncoderOptions& o)
      : backbone(register_module("backbone", std::move(b))),
        projector(register_module("projector", std::make_shared<Projector>(feat, o.proj_hidden, o.proj_dim, o.proj_layers))),
        feat_(feat) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    return dist::data_parallel(*this, x, [&](const torch::Tensor& rows) { return unit(projector->forward(backbone->forward(rows))); });
  }
  torch::Tensor features(const torch::Tensor& x) override { return backbone->forward(x); }
  std::int64_t feature_dim() const override { return feat_; }
  std::shared_ptr<Backbone> backbone;
  std::shared_ptr<Projector> projector;
  std::int64_t feat_;
};

}  // namespace

MlpEncoder::MlpEncoder(std::int64_t in, std::int64_t hidden, std::int64_t out)
    : fc1(register_module("fc1", torch::nn::Linear(in, hidden))),
      fc2(register_module("fc2", torch::nn::Linear(hidden, out))),
      bn1(register_module("bn1", torch::nn::BatchNorm1d(hidden))),
      bn2(register_module("bn2", torch::nn::BatchNorm1d(out))),
      out_(out) {}

torch::Tensor MlpEncoder::forward(const torch::Tensor& x) {
  return dist::data_parallel(*this, x, [&](const torch::Tensor& rows) {
    auto h = torch::relu(dist::norm(bn1, fc1(rows)));
    return unit(dist::norm(bn2, fc2(h)));
  });
}

EncoderPtr make_image_encoder(const ImageEncoderOptions& opt) {
  if (opt.backbone == "small-cnn")
    return std::make_shared<ImageEncoder<SmallCnn>>(std::make_shared<SmallCnn>(opt.in_channels), SmallCnn::kOut, opt);
  if (opt.backbone == "resnet18") {
    auto r = std::make_shared<ResNet>(opt.in_channels, false, std::vector<int>{2, 2, 2, 2});
    return std::make_shared<ImageEncoder<ResNet>>(r, r->out, opt);
  }
  if (opt.backbone == "resnet50") {
    auto r = std::make_shared<ResNet>(opt.in_channels, true, std::vector<int>{3, 4, 6, 3});
    return std::make_shared<ImageEncoder<ResNet>>(r, r->out, opt);
  }
  throw ConfigError("encoder", "unknown image encoder '" + opt.backbone + "' (accepted: small-cnn, resnet18, resnet50)");
}

PredictorImpl::PredictorImpl(std::int64_t dim, std::int64_t hidden)
    : fc1(register_module("fc1", torch::nn::Linear(dim, hidden))),
      fc2(register_module("fc2", torch::nn::Linear(hidden, dim))),
      bn1(register_module("bn1", torch::nn::BatchNorm1d(hidden))) {}

torch::Tensor PredictorImpl::forward(const torch::Tensor& x) { return fc2(torch::relu(bn1(fc1(x)))); }

void init_from_generator(torch::nn::Module& module, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  for (auto& m : module.modules(/*include_self=*/true)) {
    if (auto* lin = m->as<torch::nn::Linear>()) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(lin->weight.size(1)));
      lin->weight.uniform_(-bound, bound, gen);
      if (lin->bias.defined()) lin->bias.uniform_(-bound, bound, gen);
    } else if (auto* cv = m->as<torch::nn::Conv2d>()) {
      const auto& w = cv->weight;
      const double fan_in = static_cast<double>(w.size(1) * w.size(2) * w.size(3));
      const double bound = 1.0 / std::sqrt(fan_in);
      cv->weight.uniform_(-bound, bound, gen);
      if (cv->bias.defined()) cv->bias.uniform_(-bound, bound, gen);
    }
  }
}

void copy_state(const torch::nn::Module& src, torch::nn::Module& dst) {
  torch::NoGradGuard no_grad;
  const auto sp = src.parameters(), dp = dst.parameters();
  for (std::size_t i = 0; i < sp.size(); ++i) dp[i].copy_(sp[i]);
  const auto sb = src.buffers(), db = dst.buffers();
  for (std::size_t i = 0; i < sb.size(); ++i) db[i].copy_(sb[i]);
}

void ema_update(const torch::nn::Module& online, torch::nn::Module& target, double momentum) {
  torch::NoGradGuard no_grad;
  const auto op = online.parameters();
  auto tp = target.parameters();
  for (std::size_t i = 0; i < op.size(); ++i) tp[i].mul_(momentum).add_(op[i], 1.0 - momentum);
}

}  // namespace ssrl
