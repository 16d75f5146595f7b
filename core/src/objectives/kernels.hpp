#pragma once
// Fused CPU kernels for the N x N similarity work of the cos-DV loss and the
// MI estimators. They stream over the matrix in column blocks that stay in
// L1 cache and never materialise it: memory is O(N * D + block).
//
// Inputs are row-major A (n x d) and B transposed (d x n, so the inner loop
// over columns vectorises). s_ij = inv_t * <a_i, b_j>. Each call covers the
// rows [i0, i1) so callers can split the work across threads and merge the
// partial sums. No torch here; the file is compiled with -ffast-math so the
// loops call glibc's vector exp/log1p, hence callers must pass finite values.

#include <cmath>
#include <cstdint>

namespace ssrl::kernels {

// A log-sum-exp accumulated as sum * exp(m).
struct LsePartial {
  double m = 0;
  double sum = 0;  // 0 means empty

  void add(double block_max, double block_sum) {
    if (block_sum <= 0) return;
    if (sum <= 0) {
      m = block_max;
      sum = block_sum;
    } else if (block_max > m) {
      sum = sum * std::exp(m - block_max) + block_sum;
      m = block_max;
    } else {
      sum += block_sum * std::exp(block_max - m);
    }
  }
  void merge(const LsePartial& o) { add(o.m, o.sum); }
  double lse() const { return m + std::log(sum); }
};

// lse[i] = log sum_j exp(s_ij) over j != i when `exclude_diag`, else over
// all j; for rows i in [i0, i1) of A (m x d) against B^T (d x n).
void row_lse(const float* a, const float* bt, std::int64_t n, std::int64_t d, float inv_t,
             bool exclude_diag, std::int64_t i0, std::int64_t i1, float* lse);

// Backward of row_lse with upstream gradient g (one value per row):
// with w_ij = g_i exp(s_ij - lse_i) (0 where excluded),
//   wb[i, :]  = sum_j w_ij b_j          for i in [i0, i1) (written)
//   wat[:, j] += sum_{i in range} w_ij a_i   (d x n, accumulated; may be null)
void row_lse_backward(const float* a, const float* bt, std::int64_t n, std::int64_t d, float inv_t,
                      bool exclude_diag, const float* lse, const float* g, std::int64_t i0,
                      std::int64_t i1, float* wb, float* wat);

struct MiPartial {
  double diag_sum = 0;     // sum_i s_ii
  double infonce_sum = 0;  // sum_i (s_ii - lse_j s_ij)
  double jsd_joint = 0;    // sum_i -softplus(-s_ii)
  double softplus_off = 0; // sum_{i != j} softplus(s_ij)
  LsePartial off;          // lse over i != j
};

MiPartial mi_partial(const float* a, const float* bt, std::int64_t n, std::int64_t d, float inv_t,
                     std::int64_t i0, std::int64_t i1);

}  // namespace ssrl::kernels
