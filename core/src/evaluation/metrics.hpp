#pragma once
// Collapse indicators and cluster geometry (docs/science.md §5, §8).

#include <torch/torch.h>

#include <vector>

#include "ssrl/records.hpp"

namespace ssrl {

// Mean over dimensions of the per-dimension SD (population) of the
// L2-normalised embeddings: 0 when collapsed, ~1/sqrt(D) when spread out.
double embedding_std(const torch::Tensor& z);

// RankMe: exp(-sum p_k log p_k), p_k = s_k / sum(s) + 1e-7.
double effective_rank(const torch::Tensor& z);

// Both levels of one encoder: embeddings (projection) and backbone features;
// `scale` is the affine output norm's scale vector or undefined.
EncoderCollapse collapse_of(const std::string& encoder, const torch::Tensor& embeddings, const torch::Tensor& features,
                            const torch::Tensor& scale);

// Per cluster: mean of its embeddings, re-normalised to the unit sphere.
std::vector<Vec3> cluster_centres(const torch::Tensor& z, const torch::Tensor& labels, int clusters);

}  // namespace ssrl
