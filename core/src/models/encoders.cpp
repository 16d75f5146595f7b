#include "models/encoders.hpp"

#include <cmath>

#include "training/distributed.hpp"
#include "unit_rows.hpp"
#include "models/backbones.hpp"
#include "ssrl/errors.hpp"

namespace F = torch::nn::functional;

namespace ssrl {
namespace {

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

struct ImageEncoder : EncoderNet {
  ImageEncoder(std::shared_ptr<Backbone> b, std::int64_t feat, const ImageEncoderOptions& o)
      : backbone(register_module("backbone", std::move(b))),
        projector(register_module("projector", std::make_shared<Projector>(feat, o.proj_hidden, o.proj_dim, o.proj_layers))),
        feat_(feat) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    return dist::data_parallel(*this, x, [&](const torch::Tensor& rows) { return unit_rows(projector->forward(backbone->forward(rows))); });
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
    return unit_rows(dist::norm(bn2, fc2(h)));
  });
}

EncoderPtr make_image_encoder(const ImageEncoderOptions& opt) {
  auto backbone = make_backbone(opt.backbone, opt.in_channels);
  const std::int64_t feat = backbone->out_features();
  return std::make_shared<ImageEncoder>(std::move(backbone), feat, opt);
}

ImageEncoderOptions image_encoder_options(const RunConfig& cfg, std::int64_t in_channels) {
  ImageEncoderOptions o;
  o.backbone = resolved_encoder(cfg);
  o.in_channels = in_channels;
  o.proj_dim = cfg.proj_dim;
  o.proj_hidden = cfg.proj_hidden;
  o.proj_layers = cfg.proj_layers;
  return o;
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
