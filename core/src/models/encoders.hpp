#pragma once
// Networks: the encoders (backbone + projector, L2-normalised output) of the
// Gaussian experiment (docs/science.md §5) and the real-data benchmark (docs/science.md §6), and
// the predictor head.

#include <torch/torch.h>

#include <memory>
#include <string>

#include "ssrl/config.hpp"

namespace ssrl {

// What every method trains. project() is the raw projection the losses take
// (as in the methods' published code: each loss normalises where its method
// does); forward() its L2 normalisation, the embedding the MI estimators,
// collapse indicators, centres and the sphere see (docs/science.md §4-§6); features()
// the backbone output the linear probe and the kNN monitor see.
struct EncoderNet : torch::nn::Module {
  virtual torch::Tensor project(const torch::Tensor& x) = 0;
  torch::Tensor forward(const torch::Tensor& x);
  virtual torch::Tensor features(const torch::Tensor& x) = 0;
  virtual std::int64_t feature_dim() const = 0;
  // The learnable scale of an affine output batch norm; undefined otherwise.
  virtual torch::Tensor out_scale() const = 0;
};
using EncoderPtr = std::shared_ptr<EncoderNet>;

// Gaussian experiment: Linear(in, h) + BN + ReLU + Linear(h, out) + BN, then
// L2 normalisation (docs/science.md §5, every method). Its features are the normalised
// output itself.
struct MlpEncoder : EncoderNet {
  MlpEncoder(std::int64_t in, std::int64_t hidden, std::int64_t out);
  torch::Tensor project(const torch::Tensor& x) override;
  torch::Tensor features(const torch::Tensor& x) override { return forward(x); }
  std::int64_t feature_dim() const override { return out_; }
  torch::Tensor out_scale() const override { return bn2->weight; }

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr}, bn2{nullptr};
  std::int64_t out_;
};

// Image encoders: a backbone (small CNN, ResNet-18/50 with the small-image
// stem) and a projector of 2 or 3 layers laid out as the method's published
// code has it (HeadInfo): hidden layers Linear [+ BN] + ReLU, an output
// Linear, then the output normalisation.
struct ImageEncoderOptions {
  std::string backbone = "small-cnn";  // small-cnn | resnet18 | resnet50
  std::int64_t in_channels = 3;
  std::int64_t proj_hidden = 2048;
  std::int64_t proj_dim = 256;
  int proj_layers = 3;
  bool hidden_bias = true, hidden_bn = true, out_bias = true;
  std::string out_norm = "bn";  // bn | bn-affine | none
};
EncoderPtr make_image_encoder(const ImageEncoderOptions& opt);
// The options a run's settings give (the training task and `export weights`
// build the same network from them).
ImageEncoderOptions image_encoder_options(const RunConfig& cfg, std::int64_t in_channels);
// The backbone-less projector alone (tests: layer list, parameter count).
std::shared_ptr<torch::nn::Module> make_projector(std::int64_t in, const ImageEncoderOptions& opt);

// Two-layer predictor: Linear(d, h) + BN + ReLU + Linear(h, d), biases as the
// method's published code has them. Not normalised.
struct PredictorImpl : torch::nn::Module {
  PredictorImpl(std::int64_t dim, std::int64_t hidden, bool hidden_bias = true, bool out_bias = true);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr};
};
TORCH_MODULE(Predictor);

// Re-initialises every Linear and Conv2d like torch's default
// (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias), but from the run's
// own generator so concurrent runs in one process stay reproducible.
void init_from_generator(torch::nn::Module& module, at::Generator& gen);

// dst <- src for parameters and buffers (EMA targets start as copies).
void copy_state(const torch::nn::Module& src, torch::nn::Module& dst);

// EMA over parameters only (BN buffers follow the target's own forward).
void ema_update(const torch::nn::Module& online, torch::nn::Module& target, double momentum);

}  // namespace ssrl
