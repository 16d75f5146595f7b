#include "data/augment.hpp"

#include <algorithm>
#include <cmath>

namespace F = torch::nn::functional;

namespace ssrl {
namespace {

torch::Tensor gray(const torch::Tensor& x) {  // N x 3 x H x W -> N x 1 x H x W (ITU-R 601)
  return (0.299 * x.select(1, 0) + 0.587 * x.select(1, 1) + 0.114 * x.select(1, 2)).unsqueeze(1);
}

torch::Tensor per_sample(const torch::Tensor& v) { return v.view({-1, 1, 1, 1}); }

// Hue rotation in YIQ space: a rotation of the chroma plane by 2 pi h, as
// one 3 x 3 matrix per sample, T^-1 R(h) T (the exact inverse, so h = 0 is
// the identity). M(h) = A + cos(2 pi h) B + sin(2 pi h) C with constant A, B,
// C, built on x's device from host scalars (no upload, no sync).
torch::Tensor rotate_hue(const torch::Tensor& x, const torch::Tensor& h) {
  struct Coefficients {
    double a[3][3], b[3][3], c[3][3];
  };
  static const Coefficients k = [] {
    const auto yiq = torch::tensor({{0.299, 0.587, 0.114}, {0.596, -0.274, -0.322}, {0.211, -0.523, 0.312}}, torch::kDouble);
    const auto rgb = torch::inverse(yiq);
    auto part = [&](double r00, double cs, double sn) {
      auto r = torch::zeros({3, 3}, torch::kDouble);
      r[0][0] = r00;
      r[1][1] = cs;
      r[2][2] = cs;
      r[1][2] = -sn;
      r[2][1] = sn;
      return rgb.matmul(r).matmul(yiq).contiguous();
    };
    Coefficients out{};
    const auto a = part(1, 0, 0), b = part(0, 1, 0), c = part(0, 0, 1);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        out.a[i][j] = a[i][j].item<double>();
        out.b[i][j] = b[i][j].item<double>();
        out.c[i][j] = c[i][j].item<double>();
      }
    return out;
  }();
  const auto angle = h.to(torch::kDouble) * (2.0 * M_PI);
  const auto cs = torch::cos(angle), sn = torch::sin(angle);
  std::vector<torch::Tensor> entries;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) entries.push_back(cs * k.b[i][j] + sn * k.c[i][j] + k.a[i][j]);
  const auto m = torch::stack(entries, 1).view({-1, 3, 3}).to(x.scalar_type());
  return torch::einsum("nij,njhw->nihw", {m, x});
}

// Per-channel (x - mean) / std with host scalars.
torch::Tensor standardise(torch::Tensor x, const std::vector<float>& mean, const std::vector<float>& std) {
  const auto c = x.size(1);
  if (std::all_of(mean.begin(), mean.end(), [&](float v) { return v == mean[0]; }) &&
      std::all_of(std.begin(), std.end(), [&](float v) { return v == std[0]; }))
    return (x - mean[0]) / std[0];
  for (std::int64_t i = 0; i < c; ++i) {
    auto channel = x.select(1, i);
    channel.sub_(mean[static_cast<std::size_t>(i)]).div_(std[static_cast<std::size_t>(i)]);
  }
  return x;
}

// The rows of a view's random numbers, in the order of the recipe.
enum Row : std::int64_t { kScale, kRatio, kCx, kCy, kFlip, kJitter, kBright, kContrast, kSaturation, kHue, kRows };

// splitmix64's output function (Steele, Lea & Flood 2014; Vigna's
// splitmix64.c at prng.di.unimi.it): a bijective 64-bit mixer.
std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;

}  // namespace

torch::Tensor normalise(const torch::Tensor& x, const std::vector<float>& mean, const std::vector<float>& std) {
  return standardise(x.to(torch::kFloat) / 255.0, mean, std);
}

std::int64_t augment_draw_rows(const AugmentOptions& o, std::int64_t channels) {
  return kRows + (channels == 3 ? 1 : 0) + (o.solarize_p > 0 ? 1 : 0);
}

torch::Tensor augment_draws(const AugmentOptions& o, std::int64_t channels, const DrawKey& key, const torch::Tensor& samples) {
  const std::int64_t rows = augment_draw_rows(o, channels), n = samples.size(0);
  const auto ids = samples.to(torch::kLong).contiguous();
  const auto* id = ids.data_ptr<std::int64_t>();
  auto out = torch::empty({rows, n}, torch::kFloat);
  float* u = out.data_ptr<float>();
  // The key hashed field by field; each sample then seeds its own splitmix64
  // sequence, whose r-th output is row r.
  std::uint64_t k = mix64(key.seed + kGamma);
  for (const std::uint64_t field : {static_cast<std::uint64_t>(key.epoch), static_cast<std::uint64_t>(key.pass),
                                    static_cast<std::uint64_t>(key.view)})
    k = mix64((k ^ field) + kGamma);
  for (std::int64_t j = 0; j < n; ++j) {
    const std::uint64_t state = mix64((k ^ static_cast<std::uint64_t>(id[j])) + kGamma);
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::uint64_t bits = mix64(state + static_cast<std::uint64_t>(r + 1) * kGamma);
      u[r * n + j] = static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);  // 24 bits, as torch.rand's float
    }
  }
  return out;
}

torch::Tensor augment(const torch::Tensor& x, const AugmentOptions& o, at::Generator& gen) {
  return augment(x, o, torch::rand({augment_draw_rows(o, x.size(1)), x.size(0)}, gen, torch::kFloat));
}

torch::Tensor augment(const torch::Tensor& x_in, const AugmentOptions& o, const torch::Tensor& host_draws) {
  const auto dev = x_in.device();
  const std::int64_t n = x_in.size(0), c = x_in.size(1);
  auto x = x_in.to(torch::kFloat) / 255.0;

  // Every random number of the view in one tensor, uploaded once.
  const bool use_gray = c == 3, use_sol = o.solarize_p > 0;
  const std::int64_t rows = augment_draw_rows(o, c);
  const std::int64_t row_gray = kRows, row_sol = kRows + (use_gray ? 1 : 0);
  TORCH_CHECK(host_draws.dim() == 2 && host_draws.size(0) == rows && host_draws.size(1) == n,
              "augment: expected ", rows, " x ", n, " random numbers, got ", host_draws.sizes());
  auto draws = host_draws;
  if (dev.is_cuda()) draws = draws.pin_memory();
  draws = draws.to(dev, /*non_blocking=*/true);
  auto u = [&](std::int64_t row, double lo, double hi) { return draws[row] * (hi - lo) + lo; };
  auto happens = [&](std::int64_t row, double p) { return draws[row] < p; };

  // Random resized crop and horizontal flip as one affine resampling: the
  // crop covers a fraction `scale` of the area with aspect ratio `ratio`.
  const auto scale = u(kScale, o.crop_min_scale, o.crop_max_scale);
  const auto ratio = torch::exp(u(kRatio, std::log(o.ratio_min), std::log(o.ratio_max)));
  const auto w = torch::sqrt(scale * ratio).clamp_max(1.0), h = torch::sqrt(scale / ratio).clamp_max(1.0);
  const auto cx = (draws[kCx] * 2 - 1) * (1 - w);
  const auto cy = (draws[kCy] * 2 - 1) * (1 - h);
  const auto flip = torch::where(happens(kFlip, o.flip_p), -1.0, 1.0);
  const auto zero = torch::zeros_like(w);
  const auto theta = torch::stack({w * flip, zero, cx, zero, h, cy}, 1).view({n, 2, 3});
  const auto grid = F::affine_grid(theta, {n, c, o.out_size, o.out_size}, /*align_corners=*/false);
  x = F::grid_sample(x, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kReflection).align_corners(false));

  // Colour jitter with probability jitter_p; identity factors elsewhere.
  const auto jitter = happens(kJitter, o.jitter_p);
  auto factor = [&](std::int64_t row, double strength) {
    return torch::where(jitter, u(row, std::max(0.0, 1 - strength), 1 + strength), 1.0);
  };
  const auto bf = factor(kBright, o.brightness), cf = factor(kContrast, o.contrast), sf = factor(kSaturation, o.saturation);
  const auto hshift = torch::where(jitter, u(kHue, -o.hue, o.hue), 0.0);
  x = (x * per_sample(bf)).clamp(0, 1);
  const auto mean_gray = (c == 3 ? gray(x) : x).mean({1, 2, 3}, /*keepdim=*/true);
  x = ((x - mean_gray) * per_sample(cf) + mean_gray).clamp(0, 1);
  if (use_gray) {
    const auto g = gray(x);
    x = ((x - g) * per_sample(sf) + g).clamp(0, 1);
    x = rotate_hue(x, hshift).clamp(0, 1);
    x = torch::where(per_sample(happens(row_gray, o.grayscale_p)), gray(x).expand_as(x), x);
  }
  if (use_sol) x = torch::where(per_sample(happens(row_sol, o.solarize_p)) & (x >= 0.5), 1.0 - x, x);
  return standardise(x, o.mean, o.std);
}

}  // namespace ssrl
