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

// MoCo-v2: cross-entropy of [q.k, q.queue^T] / t against index 0 (the
// positive key); q and k are L2-normalised here, the queue rows already are.
torch::Tensor moco_queue(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& queue,
                         double temperature);
// DINO: mean over the two cross-view pairs of the cross-entropy between the
// teacher's softmax((t - center) / teacher_t) (no gradient) and the student's
// softmax(s / student_t). Inputs are prototype scores (N x K).
torch::Tensor dino(const torch::Tensor& s1, const torch::Tensor& s2, const torch::Tensor& t1,
                   const torch::Tensor& t2, const torch::Tensor& center, double student_t, double teacher_t);
// DINO's teacher temperature in an epoch: linspace(start, final, warmup)
// over the first `warmup` epochs, then final.
double dino_teacher_temp(double start, double final, int warmup, int epoch);
// SwAV's Sinkhorn-Knopp: codes Q (N x K, rows sum to 1) from scores (N x K)
// with prototypes equally used over the rows.
torch::Tensor sinkhorn(const torch::Tensor& scores, double eps, int iters);
// SwAV's swapped prediction: -mean_i sum_k q_ik log softmax(s_i / t)_k, with
// view 1's codes predicting view 2's scores and back, averaged.
torch::Tensor swav(const torch::Tensor& s1, const torch::Tensor& s2, const torch::Tensor& q1,
                   const torch::Tensor& q2, double temperature);
// W-MSE's whitening of one sub-batch: (x - mean) L^-T with L L^T the
// unbiased covariance (Cholesky). Needs more rows than columns.
torch::Tensor whiten(const torch::Tensor& x);
// W-MSE: w_iter times, cut a random permutation of the batch into
// floor(N / w_size) near-equal sub-batches, whiten each view's rows per
// sub-batch, add 2 - 2 cos between the whitened views; mean over draws.
torch::Tensor w_mse(const torch::Tensor& z1, const torch::Tensor& z2, int w_size, int w_iter, at::Generator& gen);

// Constants shared with the references.
inline constexpr double kBarlowEps = 1e-5;  // BatchNorm1d's eps in the reference code
inline constexpr double kVicregEps = 1e-4;

}  // namespace ssrl::losses
