// Compiled with -O3 -ffast-math: the column loops vectorise and call
// glibc's libmvec exp/log1p; the avx2 clone uses its 8-wide variants.
#include "objectives/kernels.hpp"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WB_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define WB_KERNEL
#endif
#define WB_INLINE inline __attribute__((always_inline))

namespace ssrl::kernels {
namespace {

constexpr std::int64_t kBlock = 256;
// Stands in for the excluded diagonal: exp(kMasked - m) is 0.
constexpr float kMasked = -1e30f;

// buf[j] = inv_t * <a, b_{j0 + j}> for j < len.
WB_INLINE void block_dots(const float* __restrict a, const float* __restrict bt, std::int64_t n,
                          std::int64_t d, float inv_t, std::int64_t j0, std::int64_t len,
                          float* __restrict buf) {
  const float a0 = a[0] * inv_t;
  const float* b0 = bt + j0;
  for (std::int64_t j = 0; j < len; ++j) buf[j] = a0 * b0[j];
  for (std::int64_t k = 1; k < d; ++k) {
    const float ak = a[k] * inv_t;
    const float* bk = bt + k * n + j0;
    for (std::int64_t j = 0; j < len; ++j) buf[j] += ak * bk[j];
  }
}

WB_INLINE float block_max(const float* __restrict buf, std::int64_t len) {
  float m = buf[0];
  for (std::int64_t j = 1; j < len; ++j) m = std::max(m, buf[j]);
  return m;
}

// e[j] = exp(buf[j] - m); returns the sum.
WB_INLINE float block_exp(const float* __restrict buf, std::int64_t len, float m,
                          float* __restrict e) {
  float s = 0;
  for (std::int64_t j = 0; j < len; ++j) {
    e[j] = std::exp(buf[j] - m);
    s += e[j];
  }
  return s;
}

}  // namespace

WB_KERNEL void row_lse(const float* a, const float* bt, std::int64_t n, std::int64_t d,
                       float inv_t, bool exclude_diag, std::int64_t i0, std::int64_t i1,
                       float* lse) {
  alignas(64) float buf[kBlock];
  alignas(64) float e[kBlock];
  for (std::int64_t i = i0; i < i1; ++i) {
    const float* ai = a + i * d;
    LsePartial row;
    for (std::int64_t j0 = 0; j0 < n; j0 += kBlock) {
      const std::int64_t len = std::min(kBlock, n - j0);
      block_dots(ai, bt, n, d, inv_t, j0, len, buf);
      if (exclude_diag && i >= j0 && i < j0 + len) buf[i - j0] = kMasked;
      const float m = block_max(buf, len);
      if (m <= 0.5f * kMasked) continue;  // the block held only the diagonal
      row.add(m, block_exp(buf, len, m, e));
    }
    lse[i] = static_cast<float>(row.lse());
  }
}

WB_KERNEL void row_lse_backward(const float* a, const float* bt, std::int64_t n, std::int64_t d,
                                float inv_t, bool exclude_diag, const float* lse, const float* g,
                                std::int64_t i0, std::int64_t i1, float* wb, float* wat) {
  alignas(64) float buf[kBlock];
  alignas(64) float w[kBlock];
  for (std::int64_t i = i0; i < i1; ++i) {
    const float* ai = a + i * d;
    float* wbi = wb + i * d;
    const float li = lse[i];
    const float gi = g[i];
    for (std::int64_t k = 0; k < d; ++k) wbi[k] = 0;
    for (std::int64_t j0 = 0; j0 < n; j0 += kBlock) {
      const std::int64_t len = std::min(kBlock, n - j0);
      block_dots(ai, bt, n, d, inv_t, j0, len, buf);
      for (std::int64_t j = 0; j < len; ++j) w[j] = gi * std::exp(buf[j] - li);
      if (exclude_diag && i >= j0 && i < j0 + len) w[i - j0] = 0;
      for (std::int64_t k = 0; k < d; ++k) {
        const float* bk = bt + k * n + j0;
        float acc = 0;
        for (std::int64_t j = 0; j < len; ++j) acc += w[j] * bk[j];
        wbi[k] += acc;
      }
      if (wat != nullptr) {
        for (std::int64_t k = 0; k < d; ++k) {
          const float aik = ai[k];
          float* gk = wat + k * n + j0;
          for (std::int64_t j = 0; j < len; ++j) gk[j] += aik * w[j];
        }
      }
    }
  }
}

WB_KERNEL MiPartial mi_partial(const float* a, const float* bt, std::int64_t n, std::int64_t d,
                               float inv_t, std::int64_t i0, std::int64_t i1) {
  alignas(64) float buf[kBlock];
  alignas(64) float e[kBlock];
  alignas(64) float sp[kBlock];
  MiPartial out;
  for (std::int64_t i = i0; i < i1; ++i) {
    const float* ai = a + i * d;
    LsePartial row;
    double s_ii = 0;
    double sp_sum = 0;
    for (std::int64_t j0 = 0; j0 < n; j0 += kBlock) {
      const std::int64_t len = std::min(kBlock, n - j0);
      block_dots(ai, bt, n, d, inv_t, j0, len, buf);
      const bool has_diag = i >= j0 && i < j0 + len;
      if (has_diag) {
        s_ii = buf[i - j0];
        buf[i - j0] = kMasked;
      }
      const float m = block_max(buf, len);
      if (m <= 0.5f * kMasked) continue;
      row.add(m, block_exp(buf, len, m, e));
      double sps = 0;
      if (has_diag) e[i - j0] = 0;  // softplus of the masked entry is log(1 + 0)
      if (m <= 60.0f) {
        // sum_j log(1 + exp(s_j)) = log prod_j (1 + exp(s_j)): one log per
        // chunk of factors whose product stays finite in double.
        const double em = std::exp(static_cast<double>(m));
        const double per = std::log1p(em);
        const std::int64_t chunk = std::max<std::int64_t>(1, std::min<std::int64_t>(kBlock, static_cast<std::int64_t>(600.0 / per)));
        for (std::int64_t c0 = 0; c0 < len; c0 += chunk) {
          const std::int64_t c1 = std::min(len, c0 + chunk);
          double prod = 1.0;
          for (std::int64_t j = c0; j < c1; ++j) prod *= 1.0 + static_cast<double>(e[j]) * em;
          sps += std::log(prod);
        }
      } else {
        for (std::int64_t j = 0; j < len; ++j) {
          sp[j] = std::max(buf[j], 0.0f) + std::log1p(std::exp(-std::abs(buf[j])));
          sps += sp[j];
        }
        if (has_diag) sps -= sp[i - j0];
      }
      sp_sum += sps;
    }
    // The masked diagonal contributes exp(-huge) = 0 to row and softplus 0.
    out.diag_sum += s_ii;
    out.softplus_off += sp_sum;
    const double sp_ii = s_ii > 0 ? s_ii + std::log1p(std::exp(-s_ii)) : std::log1p(std::exp(s_ii));
    out.jsd_joint += s_ii - sp_ii;  // -softplus(-x) = x - softplus(x)
    // lse over the whole row, diagonal included, for InfoNCE.
    LsePartial full = row;
    full.add(s_ii, 1.0);
    out.infonce_sum += s_ii - full.lse();
    out.off.merge(row);
  }
  return out;
}

}  // namespace ssrl::kernels
