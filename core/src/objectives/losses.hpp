#pragma once
// Pure loss functions. Inputs are batches of representations (N x D); the
// caller applies stop-gradients (detach) where a method needs them.

#include <torch/torch.h>

namespace ssrl::losses {

// log sum_j exp(<a_i, b_j> * inv_t) per row i (over j != i if exclude_diag).
// On the CPU with small D a fused, blockwise kernel with an analytic backward
// that never stores the N x M matrix; plain tensor ops elsewhere.
torch::Tensor row_logsumexp(const torch::Tensor& a, const torch::Tensor& b, double inv_t, bool exclude_diag);

// Batch cos-DV loss of docs/science.md §1 with T = cos / t:
//   -( mean_i T_ii - log( mean_{i != j} exp T_ij ) )
// Without the marginal term only -mean_i T_ii remains.
torch::Tensor cos_dv(const torch::Tensor& za, const torch::Tensor& zb, double temperature,
                     bool marginal);
// The same loss through plain tensor ops on the full N x N matrix; the
// reference the fused kernel is tested against, and the path for CUDA.
torch::Tensor cos_dv_dense(const torch::Tensor& za, const torch::Tensor& zb, double temperature,
                           bool marginal);

// SimSiam's D(p, z) = -cos(p, z), averaged over the batch.
torch::Tensor neg_cosine(const torch::Tensor& p, const torch::Tensor& z);
// BYOL's normalised MSE 2 - 2 cos(p, z), averaged over the batch.
torch::Tensor byol(const torch::Tensor& p, const torch::Tensor& z);
// MoCo-v3: cross-entropy of q k^T / t against the matching index, times 2t.
torch::Tensor mocov3(const torch::Tensor& q, const torch::Tensor& k, double temperature);
// SimCLR's NT-Xent over the 2N views: mean cross-entropy over 2N anchors.
torch::Tensor nt_xent(const torch::Tensor& z1, const torch::Tensor& z2, double temperature);
// Barlow Twins: sum (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2.
torch::Tensor barlow_twins(const torch::Tensor& z1, const torch::Tensor& z2, double lambda);
// VICReg: sim * MSE + var * variance hinge + cov * covariance penalty.
torch::Tensor vicreg(const torch::Tensor& z1, const torch::Tensor& z2, double sim, double var,
                     double cov);
// Taylor-DV surrogate: -E_joint[T] + E_marg[T] + lambda Var_marg[T], T = cos/t,
// computed in O(N D^2) without the N x N matrix.
torch::Tensor taylor_dv(const torch::Tensor& za, const torch::Tensor& zb, double temperature,
                        double lambda);

// Constants shared with the references.
inline constexpr double kBarlowEps = 1e-5;  // BatchNorm1d's eps in the reference code
inline constexpr double kVicregEps = 1e-4;

}  // namespace ssrl::losses
