#include "models/encoders.hpp"

#include <cmath>

#include "training/distributed.hpp"
#include "unit_rows.hpp"
#include "models/backbones.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"

namespace F = torch::nn::functional;

namespace ssrl {
namespace {

struct Projector : torch::nn::Module {
  Projector(std::int64_t in, const ImageEncoderOptions& o) {
    std::int64_t c = in;
    for (int i = 0; i < o.proj_layers; ++i) {
      const bool last = i + 1 == o.proj_layers;
      const std::int64_t out = last ? o.proj_dim : o.proj_hidden;
      const bool bias = last ? o.out_bias : o.hidden_bias;
      linears.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(torch::nn::LinearOptions(c, out).bias(bias))));
      const bool bn = last ? o.out_norm != "none" : o.hidden_bn;
      const bool affine = !last || o.out_norm == "bn-affine";
      bns.push_back(bn ? register_module("bn" + std::to_string(i), torch::nn::BatchNorm1d(torch::nn::BatchNorm1dOptions(out).affine(affine)))
                       : torch::nn::BatchNorm1d(nullptr));
      c = out;
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t i = 0; i < linears.size(); ++i) {
      x = linears[i](x);
      if (!bns[i].is_empty()) x = dist::norm(bns[i], x);
      if (i + 1 < linears.size()) x = torch::relu(x);
    }
    return x;
  }
  torch::Tensor out_scale() const {
    const auto& bn = bns.back();
    return !bn.is_empty() && bn->options.affine() ? bn->weight : torch::Tensor();
  }
  std::vector<torch::nn::Linear> linears;
  std::vector<torch::nn::BatchNorm1d> bns;
};

struct ImageEncoder : EncoderNet {
  ImageEncoder(std::shared_ptr<Backbone> b, std::int64_t feat, const ImageEncoderOptions& o)
      : backbone(register_module("backbone", std::move(b))),
        projector(register_module("projector", std::make_shared<Projector>(feat, o))),
        feat_(feat) {}
  torch::Tensor project(const torch::Tensor& x) override {
    return dist::data_parallel(*this, x, [&](const torch::Tensor& rows) { return projector->forward(backbone->forward(rows)); });
  }
  torch::Tensor features(const torch::Tensor& x) override { return backbone->forward(x); }
  std::int64_t feature_dim() const override { return feat_; }
  torch::Tensor out_scale() const override { return projector->out_scale(); }
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

torch::Tensor EncoderNet::forward(const torch::Tensor& x) { return unit_rows(project(x)); }

torch::Tensor MlpEncoder::project(const torch::Tensor& x) {
  return dist::data_parallel(*this, x, [&](const torch::Tensor& rows) {
    auto h = torch::relu(dist::norm(bn1, fc1(rows)));
    return dist::norm(bn2, fc2(h));
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
  const HeadInfo& head = find_method(cfg.method).head;  // the method's published layout
  o.hidden_bias = head.hidden_bias;
  o.hidden_bn = head.hidden_bn;
  o.out_bias = head.out_bias;
  o.out_norm = cfg.proj_out_norm;
  return o;
}

std::shared_ptr<torch::nn::Module> make_projector(std::int64_t in, const ImageEncoderOptions& opt) {
  return std::make_shared<Projector>(in, opt);
}

PredictorImpl::PredictorImpl(std::int64_t dim, std::int64_t hidden, bool hidden_bias, bool out_bias)
    : fc1(register_module("fc1", torch::nn::Linear(torch::nn::LinearOptions(dim, hidden).bias(hidden_bias)))),
      fc2(register_module("fc2", torch::nn::Linear(torch::nn::LinearOptions(hidden, dim).bias(out_bias)))),
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
  // Multi-tensor kernels: two launches for the whole network on a GPU.
  torch::_foreach_mul_(tp, momentum);
  torch::_foreach_add_(tp, op, 1.0 - momentum);
}

}  // namespace ssrl
