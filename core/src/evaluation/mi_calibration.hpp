#pragma once
// The calibration's pairs (ssrl/calibration.hpp), for its tests.
#include <torch/torch.h>

#include "ssrl/calibration.hpp"

namespace ssrl {

// x ~ N(0, I_dim), y = rho x + sqrt(1 - rho^2) e; double.
std::pair<torch::Tensor, torch::Tensor> gaussian_pairs(std::int64_t n, int dim, double rho, at::Generator& gen);
// x uniform on S^2, y ~ von Mises-Fisher(x, kappa); double, unit rows.
std::pair<torch::Tensor, torch::Tensor> vmf_pairs(std::int64_t n, double kappa, at::Generator& gen);

}  // namespace ssrl
