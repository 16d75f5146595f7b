#pragma once
// Lower-bound MI estimators of docs/science.md §4 between two branches' outputs.

#include <cstdint>

#include <torch/torch.h>

namespace ssrl {

struct MiValues {
  double cos_dv = 0;
  double infonce = 0;
  double jsd = 0;
};

// Blockwise: memory O(N * block) whatever N. Inputs are normalised here.
MiValues mi_estimates(const torch::Tensor& za, const torch::Tensor& zb, double temperature,
                      std::int64_t block = 256);
// Row blocks through tensor ops (the CUDA and large-D path); O(N * block).
MiValues mi_estimates_blockwise(const torch::Tensor& za, const torch::Tensor& zb, double temperature,
                                std::int64_t block = 256);
// The same estimates from the full N x N matrix (tests, benchmarks).
MiValues mi_estimates_dense(const torch::Tensor& za, const torch::Tensor& zb, double temperature);

}  // namespace ssrl
