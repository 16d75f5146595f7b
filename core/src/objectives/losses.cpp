#include "objectives/losses.hpp"

#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>

#include "unit_rows.hpp"
#include "objectives/kernels.hpp"
#include "training/precision.hpp"

namespace F = torch::nn::functional;

namespace ssrl::losses {
namespace {

bool fused_ok(const torch::Tensor& a, const torch::Tensor& b) {
  return a.device().is_cpu() && b.device().is_cpu() && a.dim() == 2 && a.size(1) <= 64 &&
         a.size(0) >= 2 && a.sizes() == b.sizes() && a.scalar_type() == torch::kFloat &&
         b.scalar_type() == torch::kFloat;
}

// Chunked over rows; partials are merged in row order so the result does
// not depend on how threads picked the chunks.
template <class Partial, class Fn>
std::vector<std::pair<std::int64_t, Partial>> over_rows(std::int64_t n, Fn fn) {
  std::vector<std::pair<std::int64_t, Partial>> parts;
  std::mutex mu;
  at::parallel_for(0, n, 128, [&](std::int64_t b, std::int64_t e) {
    Partial p = fn(b, e);
    std::lock_guard<std::mutex> lock(mu);
    parts.emplace_back(b, std::move(p));
  });
  std::sort(parts.begin(), parts.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  return parts;
}

// Row-wise log-sum-exp of s_ij = inv_t <a_i, b_j>, fused: the N x M matrix
// is streamed in cache-sized blocks forward and backward, never stored.
struct RowLse : public torch::autograd::Function<RowLse> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a_in,
                               const torch::Tensor& b_in, double inv_t, bool exclude_diag) {
    const auto a = a_in.contiguous();
    const auto bt = b_in.t().contiguous();
    const std::int64_t m = a.size(0), n = bt.size(1), d = a.size(1);
    auto lse = torch::empty({m}, a.options());
    if (torch::isfinite(a).all().item<bool>() && torch::isfinite(bt).all().item<bool>()) {
      over_rows<int>(m, [&](std::int64_t b, std::int64_t e) {
        kernels::row_lse(a.data_ptr<float>(), bt.data_ptr<float>(), n, d, static_cast<float>(inv_t), exclude_diag,
                         b, e, lse.data_ptr<float>());
        return 0;
      });
    } else {
      lse.fill_(std::numeric_limits<float>::quiet_NaN());
    }
    ctx->save_for_backward({a, bt, lse});
    ctx->saved_data["inv_t"] = inv_t;
    ctx->saved_data["exclude"] = exclude_diag;
    return lse;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& a = saved[0];
    const auto& bt = saved[1];
    const auto& lse = saved[2];
    const double inv_t = ctx->saved_data["inv_t"].toDouble();
    const bool exclude = ctx->saved_data["exclude"].toBool();
    const std::int64_t m = a.size(0), n = bt.size(1), d = a.size(1);
    const bool need_b = ctx->needs_input_grad(1);
    const auto g = grads[0].to(torch::kFloat).contiguous();
    auto wb = torch::empty({m, d}, a.options());
    const auto parts = over_rows<torch::Tensor>(m, [&](std::int64_t b, std::int64_t e) {
      auto local = need_b ? torch::zeros({d, n}, a.options()) : torch::Tensor();
      kernels::row_lse_backward(a.data_ptr<float>(), bt.data_ptr<float>(), n, d, static_cast<float>(inv_t),
                                exclude, lse.data_ptr<float>(), g.data_ptr<float>(), b, e, wb.data_ptr<float>(),
                                need_b ? local.data_ptr<float>() : nullptr);
      return local;
    });
    torch::Tensor grad_b;
    if (need_b) {
      auto wat = parts.front().second;
      for (std::size_t i = 1; i < parts.size(); ++i) wat = wat + parts[i].second;
      grad_b = wat.t() * inv_t;
    }
    return {wb * inv_t, grad_b, torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor offdiag_mask(std::int64_t n, const torch::Device& dev) {
  return torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(dev));
}

}  // namespace

torch::Tensor cos_dv_dense(const torch::Tensor& za_in, const torch::Tensor& zb_in, double temperature,
                           bool marginal) {
  // Similarities, log-sum-exp and covariances in float32, autocast or not.
  const AutocastOff full_precision;
  const auto za = fp32(za_in);
  const auto zb = fp32(zb_in);
  const auto a = unit_rows(za), b = unit_rows(zb);
  const std::int64_t n = a.size(0);
  const auto s = a.mm(b.t()) / temperature;
  const auto joint = s.diagonal().mean();
  if (!marginal) return -joint;
  const auto off = s.masked_fill(offdiag_mask(n, s.device()), -std::numeric_limits<double>::infinity());
  const double nn = static_cast<double>(n);
  const auto log_mean_exp = torch::logsumexp(off.flatten(), 0) - std::log(nn * (nn - 1.0));
  return -(joint - log_mean_exp);
}

torch::Tensor row_logsumexp(const torch::Tensor& a, const torch::Tensor& b, double inv_t, bool exclude_diag) {
  if (fused_ok(a, b)) return RowLse::apply(a, b, inv_t, exclude_diag);
  auto s = a.mm(b.t()) * inv_t;
  if (exclude_diag) {
    const auto k = std::min(s.size(0), s.size(1));
    const auto idx = torch::arange(k, torch::TensorOptions().dtype(torch::kLong).device(s.device()));
    s = s.index_put({idx, idx}, torch::full({}, -std::numeric_limits<double>::infinity(), s.options()));
  }
  return torch::logsumexp(s, 1);
}

torch::Tensor cos_dv(const torch::Tensor& za_in, const torch::Tensor& zb_in, double temperature,
                     bool marginal) {
  // Similarities, log-sum-exp and covariances in float32, autocast or not.
  const AutocastOff full_precision;
  const auto za = fp32(za_in);
  const auto zb = fp32(zb_in);
  TORCH_CHECK(za.dim() == 2 && za.sizes() == zb.sizes(), "cos_dv: inputs must both be N x D");
  TORCH_CHECK(za.size(0) >= 2, "cos_dv: the marginal term needs a batch of at least 2");
  const auto a = unit_rows(za), b = unit_rows(zb);
  const auto joint = (a * b).sum(1).mean() / temperature;
  if (!marginal) return -joint;
  // log mean_{i != j} exp T_ij = logsumexp_i( logsumexp_{j != i} T_ij ) - log N(N-1)
  const double n = static_cast<double>(a.size(0));
  const auto marg = torch::logsumexp(row_logsumexp(a, b, 1.0 / temperature, true), 0) - std::log(n * (n - 1.0));
  return -(joint - marg);
}

torch::Tensor neg_cosine(const torch::Tensor& p_in, const torch::Tensor& z_in) {
  // Similarities, log-sum-exp and covariances in float32, autocast or not.
  const AutocastOff full_precision;
  const auto p = fp32(p_in);
  const auto z = fp32(z_in);
  return -(unit_rows(p) * unit_rows(z)).sum(1).mean();
}

torch::Tensor byol(const torch::Tensor& p_in, const torch::Tensor& z_in) {
  // Similarities, log-sum-exp and covariances in float32, autocast or not.
  const AutocastOff full_precision;
  const auto p = fp32(p_in);
  const auto z = fp32(z_in);
  return (2.0 - 2.0 * (unit_rows(p) * unit_rows(z)).sum(1)).mean();
}

torch::Tensor mocov3(const torch::Tensor& q_in, const torch::Tensor& k_in, double temperature) {
  // Similarities, log-sum-exp and covariances in float32, autocast or not.
  const AutocastOff full_precision;
  const auto q = fp32(q_in);
  const auto k = fp32(k_in);
  // Cross-entropy against the matching index: mean_i [lse_j s_ij - s_ii].
  const auto a = unit_rows(q), b = unit_rows(k);
  const auto positive = (a * b).sum(1) / temperature;
  return (row_logsumexp(a, b, 1.0 / temperature, false) - positive).mean() * (2.0 * temperature);
}

torch::Tensor nt_xent(const torch::Tensor& z1_in, const torch::Tensor& z2_in, double temperature) {
  // Similarities, log-sum-exp and covariances in float32, autocast or not.
  const AutocastOff full_precision;
  const auto z1 = fp32(z1_in);
  const auto z2 = fp32(z2_in);
  // 2N anchors; each one's positive is the other view of its sample, every
  // other of the 2N a negative, itself excluded.
  const std::int64_t n = z1.size(0);
  const auto z = unit_rows(torch::cat({z1, z2}, 0));
  const auto positive = (z * z.roll(n, 0)).sum(1) / temperature;
  return (row_logsumexp(z, z, 1.0 / temperature, true) - positive).mean();
}

torch::Tensor barlow_twins(const torch::Tensor& z1_in, const torch::Tensor& z2_in, double lambda) {
  // Similarities, log-sum-exp and covariances in float32, autocast or not.
  const AutocastOff full_precision;
  const auto z1 = fp32(z1_in);
  const auto z2 = fp32(z2_in);
  const double n = static_cast<double>(z1.size(0));
  auto standardise = [](const torch::Tensor& z) {
    const auto mean = z.mean(0, true);
    const auto var = z.var(0, /*unbiased=*/false, /*keepdim=*/true);
    return (z - mean) / (var + kBarlowEps).sqrt();
  };
  const auto c = standardise(z1).t().mm(standardise(z2)) / n;
  const auto diag = c.diagonal();
  const auto on = (1.0 - diag).pow(2).sum();
  const auto off = c.pow(2).sum() - diag.pow(2).sum();
  return on + lambda * off;
}

torch::Tensor vicreg(const torch::Tensor& z1_in, const torch::Tensor& z2_in, double sim, double var,
                     double cov) {
  // Similarities, log-sum-exp and covariances in float32, autocast or not.
  const AutocastOff full_precision;
  const auto z1 = fp32(z1_in);
  const auto z2 = fp32(z2_in);
  const double n = static_cast<double>(z1.size(0));
  const double d = static_cast<double>(z1.size(1));
  const auto invariance = F::mse_loss(z1, z2);
  auto variance = [](const torch::Tensor& z) {
    const auto sd = (z.var(0, /*unbiased=*/true) + kVicregEps).sqrt();
    return torch::relu(1.0 - sd).mean();
  };
  auto covariance = [&](const torch::Tensor& z) {
    const auto zc = z - z.mean(0, true);
    const auto c = zc.t().mm(zc) / (n - 1.0);
    return (c.pow(2).sum() - c.diagonal().pow(2).sum()) / d;
  };
  const auto v = 0.5 * variance(z1) + 0.5 * variance(z2);
  const auto c = covariance(z1) + covariance(z2);
  return sim * invariance + var * v + cov * c;
}

torch::Tensor taylor_dv(const torch::Tensor& za_in, const torch::Tensor& zb_in, double temperature,
                        double lambda) {
  // Similarities, log-sum-exp and covariances in float32, autocast or not.
  const AutocastOff full_precision;
  const auto za = fp32(za_in);
  const auto zb = fp32(zb_in);
  const auto a = unit_rows(za), b = unit_rows(zb);
  const double n = static_cast<double>(a.size(0));
  const double pairs = n * (n - 1.0);
  const double inv_t = 1.0 / temperature;
  const auto diag = (a * b).sum(1) * inv_t;  // T_ii
  // sum_ij T_ij = (sum_i a_i) . (sum_j b_j) / t ;  sum_ij T_ij^2 = <A^T A, B^T B> / t^2
  const auto sum_all = a.sum(0).dot(b.sum(0)) * inv_t;
  const auto sq_all = (a.t().mm(a) * b.t().mm(b)).sum() * (inv_t * inv_t);
  const auto mean_off = (sum_all - diag.sum()) / pairs;
  const auto mean_sq_off = (sq_all - diag.pow(2).sum()) / pairs;
  const auto var_off = mean_sq_off - mean_off.pow(2);
  return -diag.mean() + mean_off + lambda * var_off;
}

torch::Tensor moco_queue(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& queue,
                         double temperature) {
  const auto a = unit_rows(q), b = unit_rows(k);
  const auto positive = (a * b).sum(1, /*keepdim=*/true);
  const auto logits = torch::cat({positive, a.mm(queue.t())}, 1) / temperature;
  return (torch::logsumexp(logits, 1) - logits.select(1, 0)).mean();
}

torch::Tensor dino(const torch::Tensor& s1, const torch::Tensor& s2, const torch::Tensor& t1,
                   const torch::Tensor& t2, const torch::Tensor& center, double student_t, double teacher_t) {
  auto teacher = [&](const torch::Tensor& t) { return torch::softmax((t.detach() - center) / teacher_t, 1); };
  auto ce = [&](const torch::Tensor& p, const torch::Tensor& s) {
    return -(p * torch::log_softmax(s / student_t, 1)).sum(1).mean();
  };
  return 0.5 * (ce(teacher(t1), s2) + ce(teacher(t2), s1));
}

double dino_teacher_temp(double start, double final, int warmup, int epoch) {
  if (epoch >= warmup) return final;
  if (warmup == 1) return start;
  return start + (final - start) * epoch / (warmup - 1.0);
}

torch::Tensor sinkhorn(const torch::Tensor& scores, double eps, int iters) {
  torch::NoGradGuard no_grad;
  // K x N; the max is taken out first (it cancels in the normalisations).
  auto q = scores.t();
  if (q.scalar_type() != torch::kDouble) q = q.to(torch::kFloat);
  q = q / eps;
  q = (q - q.max()).exp();
  const double k = static_cast<double>(q.size(0)), n = static_cast<double>(q.size(1));
  q = q / q.sum();
  for (int i = 0; i < iters; ++i) {
    q = q / q.sum(1, /*keepdim=*/true) / k;  // every prototype gets 1/K of the mass
    q = q / q.sum(0, /*keepdim=*/true) / n;  // every sample 1/N
  }
  return (q * n).t();
}

torch::Tensor swav(const torch::Tensor& s1, const torch::Tensor& s2, const torch::Tensor& q1,
                   const torch::Tensor& q2, double temperature) {
  auto ce = [&](const torch::Tensor& q, const torch::Tensor& s) {
    return -(q.detach() * torch::log_softmax(s / temperature, 1)).sum(1).mean();
  };
  return 0.5 * (ce(q1, s2) + ce(q2, s1));
}

torch::Tensor whiten(const torch::Tensor& x) {
  const std::int64_t n = x.size(0), d = x.size(1);
  TORCH_CHECK(n > d, "whitening needs more rows than dimensions (got ", n, " rows of ", d, ")");
  const auto xc = x - x.mean(0, true);
  const auto cov = xc.t().mm(xc) / static_cast<double>(n - 1);
  // The _ex form skips the info read-back (a host sync per block on a GPU); a matrix that is not
  // positive definite gives NaN, which the trainer reports as divergence.
  const auto l = std::get<0>(torch::linalg_cholesky_ex(cov));
  // (L^-1 xc^T)^T: solve L Y = xc^T for Y.
  return torch::linalg_solve_triangular(l, xc.t(), /*upper=*/false).t();
}

torch::Tensor w_mse(const torch::Tensor& z1, const torch::Tensor& z2, int w_size, int w_iter, at::Generator& gen) {
  const std::int64_t n = z1.size(0);
  const std::int64_t parts = n / w_size;
  TORCH_CHECK(parts >= 1, "W-MSE: a batch of ", n, " is smaller than w_size ", w_size);
  torch::Tensor total;
  for (int it = 0; it < w_iter; ++it) {
    const auto perm = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong)).to(z1.device());
    std::vector<torch::Tensor> a, b;
    for (std::int64_t p = 0, start = 0; p < parts; ++p) {
      const std::int64_t len = n / parts + (p < n % parts ? 1 : 0);
      const auto idx = perm.narrow(0, start, len);
      a.push_back(whiten(z1.index_select(0, idx)));
      b.push_back(whiten(z2.index_select(0, idx)));
      start += len;
    }
    const auto term = byol(torch::cat(a), torch::cat(b));
    total = it == 0 ? term : total + term;
  }
  return total / static_cast<double>(w_iter);
}

}  // namespace ssrl::losses
