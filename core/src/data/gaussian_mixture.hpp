#pragma once
// The controlled Gaussian-mixture experiment of docs/science.md §5.

#include <torch/torch.h>

#include "ssrl/config.hpp"

namespace ssrl {

struct GaussianMixture {
  torch::Tensor train_x, train_y;  // N x 2 clean points, N cluster labels
  torch::Tensor val_x, val_y;      // the held-out set, same size
  torch::Tensor val_v1, val_v2;    // fixed views of the validation set for MI tracking
  int clusters = 0;
};

// Centres mu_k = (cos 2 pi k / K, sin 2 pi k / K), k = 1..K.
torch::Tensor gaussian_centres(int clusters);

// Draws train, validation and validation views, in that order, from `gen`.
GaussianMixture make_gaussian_mixture(const RunConfig& cfg, at::Generator& gen);

// Two views x + e1, x + e2 with e ~ N(0, noise^2 I).
std::pair<torch::Tensor, torch::Tensor> make_views(const torch::Tensor& x, double noise,
                                                   at::Generator& gen);

}  // namespace ssrl
