#pragma once
// The standard augmentation recipe for small images (docs/science.md §8) as batched
// tensor operations, so it runs on the training device; every random draw
// comes from the run's generator.

#include <torch/torch.h>

#include <vector>

namespace ssrl {

struct AugmentOptions {
  int out_size = 32;
  double crop_min_scale = 0.08, crop_max_scale = 1.0;
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;
  double flip_p = 0.5;
  double jitter_p = 0.8;
  double brightness = 0.4, contrast = 0.4, saturation = 0.2, hue = 0.1;
  double grayscale_p = 0.2;
  double solarize_p = 0.0;
  std::vector<float> mean{0.5f}, std{0.5f};
};

// x: N x C x H x W uint8 (C = 1 or 3) on any device. Returns N x C x S x S
// float, normalised: random resized crop + flip (one affine resampling),
// colour jitter (brightness, contrast, saturation, hue, in that order) with
// probability jitter_p, grayscale, solarisation.
torch::Tensor augment(const torch::Tensor& x, const AugmentOptions& opt, at::Generator& gen);

// Evaluation transform: float, normalised, no randomness.
torch::Tensor normalise(const torch::Tensor& x, const std::vector<float>& mean, const std::vector<float>& std);

}  // namespace ssrl
