#pragma once
// Rows scaled to unit L2 norm: the normalisation onto the sphere that the
// encoders' output, the losses and the MI estimators share.
#include <torch/torch.h>

namespace ssrl {

inline torch::Tensor unit_rows(const torch::Tensor& z) {
  namespace F = torch::nn::functional;
  return F::normalize(z, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
}

}  // namespace ssrl
