#include "data/gaussian_mixture.hpp"

#include <cmath>

namespace ssrl {

torch::Tensor gaussian_centres(int clusters) {
  auto c = torch::empty({clusters, 2}, torch::kFloat);
  for (int k = 1; k <= clusters; ++k) {
    const double angle = 2.0 * M_PI * k / clusters;
    c[k - 1][0] = std::cos(angle);
    c[k - 1][1] = std::sin(angle);
  }
  return c;
}

namespace {

std::pair<torch::Tensor, torch::Tensor> draw_set(const torch::Tensor& centres, int per_cluster,
                                                 double sigma, at::Generator& gen) {
  const int k = static_cast<int>(centres.size(0));
  auto labels = torch::arange(k, torch::kLong).repeat_interleave(per_cluster);
  auto noise = torch::randn({k * per_cluster, 2}, gen, torch::kFloat) * sigma;
  return {centres.index_select(0, labels) + noise, labels};
}

}  // namespace

GaussianMixture make_gaussian_mixture(const RunConfig& cfg, at::Generator& gen) {
  const auto centres = gaussian_centres(cfg.clusters);
  GaussianMixture g;
  g.clusters = cfg.clusters;
  std::tie(g.train_x, g.train_y) = draw_set(centres, cfg.points_per_cluster, cfg.cluster_sigma, gen);
  std::tie(g.val_x, g.val_y) = draw_set(centres, cfg.points_per_cluster, cfg.cluster_sigma, gen);
  std::tie(g.val_v1, g.val_v2) = make_views(g.val_x, cfg.view_noise, gen);
  return g;
}

std::pair<torch::Tensor, torch::Tensor> make_views(const torch::Tensor& x, double noise,
                                                   at::Generator& gen) {
  auto e1 = torch::randn(x.sizes(), gen, torch::kFloat) * noise;
  auto e2 = torch::randn(x.sizes(), gen, torch::kFloat) * noise;
  return {x + e1.to(x.device()), x + e2.to(x.device())};
}

}  // namespace ssrl
