#pragma once
// The standard augmentation recipe for small images (docs/science.md §8) as batched
// tensor operations, so it runs on the training device. Its random numbers
// come in one rows x N tensor per view: from a generator, or per sample from
// a counter-based stream keyed by (seed, epoch, pass, sample, view), so that
// a sample's views do not depend on which process draws them.

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
// The same with the view's random numbers given: `draws` is
// augment_draw_rows(opt, C) x N, uniform in [0, 1), on the host.
torch::Tensor augment(const torch::Tensor& x, const AugmentOptions& opt, const torch::Tensor& draws);
std::int64_t augment_draw_rows(const AugmentOptions& opt, std::int64_t channels);

// Where a view's random numbers come from: row r of sample s is a pure
// function of (seed, epoch, pass, s, view, r).
struct DrawKey {
  std::uint64_t seed = 0;
  std::int64_t epoch = 0, pass = 0;
  int view = 0;
};
// augment_draw_rows(opt, channels) x samples.size(0) uniform floats in
// [0, 1) at torch.rand's float resolution (2^-24); `samples`: int64 host ids.
torch::Tensor augment_draws(const AugmentOptions& opt, std::int64_t channels, const DrawKey& key, const torch::Tensor& samples);

// Evaluation transform: float, normalised, no randomness.
torch::Tensor normalise(const torch::Tensor& x, const std::vector<float>& mean, const std::vector<float>& std);

}  // namespace ssrl
