#pragma once
// Networks of the Gaussian experiment (SPEC §5) and the predictor head.

#include <torch/torch.h>

namespace ssrl {

// Linear(in, h) + BN + ReLU + Linear(h, out) + BN, then L2 normalisation.
struct MlpEncoderImpl : torch::nn::Module {
  MlpEncoderImpl(std::int64_t in, std::int64_t hidden, std::int64_t out);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr}, bn2{nullptr};
};
TORCH_MODULE(MlpEncoder);

// Two-layer predictor: Linear(d, h) + BN + ReLU + Linear(h, d). Not normalised.
struct PredictorImpl : torch::nn::Module {
  PredictorImpl(std::int64_t dim, std::int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr};
};
TORCH_MODULE(Predictor);

// Re-initialises every Linear layer like torch's default (U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) for weight and bias), but from the run's own generator so
// concurrent runs in one process stay reproducible.
void init_from_generator(torch::nn::Module& module, at::Generator& gen);

// dst <- src for parameters and buffers (EMA targets start as copies).
void copy_state(const torch::nn::Module& src, torch::nn::Module& dst);

// EMA over parameters only (BN buffers follow the target's own forward).
void ema_update(const torch::nn::Module& online, torch::nn::Module& target, double momentum);

}  // namespace ssrl
