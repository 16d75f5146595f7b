#include "evaluation/metrics.hpp"

#include <cmath>

namespace F = torch::nn::functional;

namespace ssrl {

double embedding_std(const torch::Tensor& z) {
  torch::NoGradGuard no_grad;
  const auto u = F::normalize(z.to(torch::kDouble), F::NormalizeFuncOptions().dim(1));
  return u.std(0, /*unbiased=*/false).mean().item<double>();
}

double effective_rank(const torch::Tensor& z) {
  torch::NoGradGuard no_grad;
  const auto s = torch::linalg_svdvals(z.to(torch::kDouble).cpu());
  const auto p = s / s.sum() + 1e-7;
  return std::exp(-(p * p.log()).sum().item<double>());
}

std::vector<Vec3> cluster_centres(const torch::Tensor& z, const torch::Tensor& labels, int clusters) {
  torch::NoGradGuard no_grad;
  const auto zc = z.to(torch::kDouble).cpu();
  const auto lc = labels.cpu();
  const std::int64_t d = zc.size(1);
  auto sums = torch::zeros({clusters, d}, torch::kDouble).index_add_(0, lc, zc);
  auto unit = F::normalize(sums, F::NormalizeFuncOptions().dim(1).eps(1e-12)).contiguous();
  std::vector<Vec3> out(static_cast<std::size_t>(clusters));
  const double* p = unit.data_ptr<double>();
  for (int k = 0; k < clusters; ++k) {
    out[k].x = p[k * d];
    out[k].y = d > 1 ? p[k * d + 1] : 0.0;
    out[k].z = d > 2 ? p[k * d + 2] : 0.0;
  }
  return out;
}

EncoderCollapse collapse_of(const std::string& encoder, const torch::Tensor& embeddings, const torch::Tensor& features,
                            const torch::Tensor& scale) {
  EncoderCollapse c;
  c.encoder = encoder;
  c.proj_std = embedding_std(embeddings);
  c.proj_rank = effective_rank(embeddings);
  c.feat_std = embedding_std(features);
  c.feat_rank = effective_rank(features);
  if (scale.defined()) c.out_scale_norm = scale.detach().norm().item<double>();
  return c;
}

}  // namespace ssrl
