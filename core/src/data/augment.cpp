#include "data/augment.hpp"

#include <cmath>

namespace F = torch::nn::functional;

namespace ssrl {
namespace {

torch::Tensor uniform(std::int64_t n, double lo, double hi, at::Generator& gen, const torch::Device& dev) {
  return (torch::rand({n}, gen, torch::kFloat) * (hi - lo) + lo).to(dev);
}

torch::Tensor bernoulli(std::int64_t n, double p, at::Generator& gen, const torch::Device& dev) {
  return (torch::rand({n}, gen, torch::kFloat) < p).to(dev);
}

torch::Tensor gray(const torch::Tensor& x) {  // N x 3 x H x W -> N x 1 x H x W (ITU-R 601)
  return (0.299 * x.select(1, 0) + 0.587 * x.select(1, 1) + 0.114 * x.select(1, 2)).unsqueeze(1);
}

torch::Tensor per_sample(const torch::Tensor& v) { return v.view({-1, 1, 1, 1}); }

// Hue rotation in YIQ space: a rotation of the chroma plane by 2 pi h, as
// one 3 x 3 matrix per sample, T^-1 R(h) T (the exact inverse, so h = 0 is
// the identity).
torch::Tensor rotate_hue(const torch::Tensor& x, const torch::Tensor& h) {
  static const torch::Tensor yiq = torch::tensor({{0.299, 0.587, 0.114}, {0.596, -0.274, -0.322}, {0.211, -0.523, 0.312}},
                                                 torch::kDouble);
  static const torch::Tensor rgb = torch::inverse(yiq);
  const auto a = h.to(torch::kDouble).cpu() * (2.0 * M_PI);
  const std::int64_t n = a.size(0);
  auto rot = torch::zeros({n, 3, 3}, torch::kDouble);
  rot.select(1, 0).select(1, 0).fill_(1.0);
  rot.select(1, 1).select(1, 1).copy_(torch::cos(a));
  rot.select(1, 1).select(1, 2).copy_(-torch::sin(a));
  rot.select(1, 2).select(1, 1).copy_(torch::sin(a));
  rot.select(1, 2).select(1, 2).copy_(torch::cos(a));
  const auto m = rgb.matmul(rot).matmul(yiq).to(x.scalar_type()).to(x.device());  // n x 3 x 3
  return torch::einsum("nij,njhw->nihw", {m, x});
}

}  // namespace

torch::Tensor normalise(const torch::Tensor& x, const std::vector<float>& mean, const std::vector<float>& std) {
  const auto dev = x.device();
  auto f = x.to(torch::kFloat) / 255.0;
  const auto m = torch::tensor(mean, torch::kFloat).view({1, -1, 1, 1}).to(dev);
  const auto s = torch::tensor(std, torch::kFloat).view({1, -1, 1, 1}).to(dev);
  return (f - m) / s;
}

torch::Tensor augment(const torch::Tensor& x_in, const AugmentOptions& o, at::Generator& gen) {
  const auto dev = x_in.device();
  const std::int64_t n = x_in.size(0), c = x_in.size(1);
  auto x = x_in.to(torch::kFloat) / 255.0;

  // Random resized crop and horizontal flip as one affine resampling: the
  // crop covers a fraction `scale` of the area with aspect ratio `ratio`.
  const auto scale = uniform(n, o.crop_min_scale, o.crop_max_scale, gen, torch::kCPU);
  const auto log_ratio = uniform(n, std::log(o.ratio_min), std::log(o.ratio_max), gen, torch::kCPU);
  const auto ratio = torch::exp(log_ratio);
  const auto w = torch::sqrt(scale * ratio).clamp_max(1.0), h = torch::sqrt(scale / ratio).clamp_max(1.0);
  const auto cx = (torch::rand({n}, gen, torch::kFloat) * 2 - 1) * (1 - w);
  const auto cy = (torch::rand({n}, gen, torch::kFloat) * 2 - 1) * (1 - h);
  const auto flip = torch::where(torch::rand({n}, gen, torch::kFloat) < o.flip_p, -1.0, 1.0);
  auto theta = torch::zeros({n, 2, 3}, torch::kFloat);
  theta.select(1, 0).select(1, 0).copy_(w * flip);
  theta.select(1, 0).select(1, 2).copy_(cx);
  theta.select(1, 1).select(1, 1).copy_(h);
  theta.select(1, 1).select(1, 2).copy_(cy);
  const auto grid = F::affine_grid(theta.to(dev), {n, c, o.out_size, o.out_size}, /*align_corners=*/false);
  x = F::grid_sample(x, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kReflection).align_corners(false));

  // Colour jitter with probability jitter_p; identity factors elsewhere.
  const auto jitter = bernoulli(n, o.jitter_p, gen, torch::kCPU);
  auto factor = [&](double strength) {
    const auto f = uniform(n, std::max(0.0, 1 - strength), 1 + strength, gen, torch::kCPU);
    return torch::where(jitter, f, torch::ones_like(f)).to(dev);
  };
  const auto bf = factor(o.brightness), cf = factor(o.contrast), sf = factor(o.saturation);
  const auto hshift = torch::where(jitter, uniform(n, -o.hue, o.hue, gen, torch::kCPU), torch::zeros({n})).to(dev);
  x = (x * per_sample(bf)).clamp(0, 1);
  const auto mean_gray = (c == 3 ? gray(x) : x).mean({1, 2, 3}, /*keepdim=*/true);
  x = ((x - mean_gray) * per_sample(cf) + mean_gray).clamp(0, 1);
  if (c == 3) {
    const auto g = gray(x);
    x = ((x - g) * per_sample(sf) + g).clamp(0, 1);
    x = rotate_hue(x, hshift).clamp(0, 1);
    const auto to_gray = per_sample(bernoulli(n, o.grayscale_p, gen, torch::kCPU));
    x = torch::where(to_gray, gray(x).expand_as(x), x);
  }
  if (o.solarize_p > 0) {
    const auto sol = per_sample(bernoulli(n, o.solarize_p, gen, torch::kCPU));
    x = torch::where(sol & (x >= 0.5), 1.0 - x, x);
  }
  const auto m = torch::tensor(o.mean, torch::kFloat).view({1, -1, 1, 1}).to(dev);
  const auto s = torch::tensor(o.std, torch::kFloat).view({1, -1, 1, 1}).to(dev);
  return (x - m) / s;
}

}  // namespace ssrl
