#include "nets.hpp"

#include <cmath>

namespace F = torch::nn::functional;

namespace ssrl {

MlpEncoderImpl::MlpEncoderImpl(std::int64_t in, std::int64_t hidden, std::int64_t out)
    : fc1(register_module("fc1", torch::nn::Linear(in, hidden))),
      fc2(register_module("fc2", torch::nn::Linear(hidden, out))),
      bn1(register_module("bn1", torch::nn::BatchNorm1d(hidden))),
      bn2(register_module("bn2", torch::nn::BatchNorm1d(out))) {}

torch::Tensor MlpEncoderImpl::forward(const torch::Tensor& x) {
  auto h = torch::relu(bn1(fc1(x)));
  return F::normalize(bn2(fc2(h)), F::NormalizeFuncOptions().dim(1).eps(1e-12));
}

PredictorImpl::PredictorImpl(std::int64_t dim, std::int64_t hidden)
    : fc1(register_module("fc1", torch::nn::Linear(dim, hidden))),
      fc2(register_module("fc2", torch::nn::Linear(hidden, dim))),
      bn1(register_module("bn1", torch::nn::BatchNorm1d(hidden))) {}

torch::Tensor PredictorImpl::forward(const torch::Tensor& x) {
  return fc2(torch::relu(bn1(fc1(x))));
}

void init_from_generator(torch::nn::Module& module, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  for (auto& m : module.modules(/*include_self=*/true)) {
    if (auto* lin = m->as<torch::nn::Linear>()) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(lin->weight.size(1)));
      lin->weight.uniform_(-bound, bound, gen);
      if (lin->bias.defined()) lin->bias.uniform_(-bound, bound, gen);
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
