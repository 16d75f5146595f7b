#include "objectives/mi.hpp"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "unit_rows.hpp"
#include "objectives/kernels.hpp"

namespace F = torch::nn::functional;

namespace ssrl {
namespace {

MiValues nan_values() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {nan, nan, nan};
}

MiValues fused_cpu(const torch::Tensor& a_in, const torch::Tensor& b_in, double temperature) {
  const auto a = a_in.to(torch::kFloat).contiguous();
  const auto bt = b_in.to(torch::kFloat).t().contiguous();
  const std::int64_t n = a.size(0), d = a.size(1);
  std::vector<std::pair<std::int64_t, kernels::MiPartial>> parts;
  std::mutex mu;
  at::parallel_for(0, n, 128, [&](std::int64_t b, std::int64_t e) {
    auto p = kernels::mi_partial(a.data_ptr<float>(), bt.data_ptr<float>(), n, d,
                                 static_cast<float>(1.0 / temperature), b, e);
    std::lock_guard<std::mutex> lock(mu);
    parts.emplace_back(b, p);
  });
  std::sort(parts.begin(), parts.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  kernels::MiPartial t;
  for (const auto& [start, p] : parts) {
    t.diag_sum += p.diag_sum;
    t.infonce_sum += p.infonce_sum;
    t.jsd_joint += p.jsd_joint;
    t.softplus_off += p.softplus_off;
    t.off.merge(p.off);
  }
  const double nn = static_cast<double>(n);
  const double pairs = nn * (nn - 1.0);
  MiValues v;
  v.cos_dv = t.diag_sum / nn - (t.off.lse() - std::log(pairs));
  v.infonce = std::log(nn) + t.infonce_sum / nn;
  v.jsd = t.jsd_joint / nn - t.softplus_off / pairs;
  return v;
}

MiValues blockwise_unit(const torch::Tensor& a, const torch::Tensor& b, double temperature,
                   std::int64_t block) {
  const std::int64_t n = a.size(0);
  const auto opts = a.options();
  const double ninf = -std::numeric_limits<double>::infinity();
  auto diag_sum = torch::zeros({}, opts.dtype(torch::kDouble));
  auto infonce_sum = diag_sum.clone(), jsd_joint = diag_sum.clone(), sp_off = diag_sum.clone();
  std::vector<torch::Tensor> row_lse;
  const auto bt = b.t() / temperature;
  for (std::int64_t r0 = 0; r0 < n; r0 += block) {
    const std::int64_t len = std::min(block, n - r0);
    auto s = a.narrow(0, r0, len).mm(bt);  // len x n
    const auto rows = torch::arange(len, opts.dtype(torch::kLong));
    const auto diag = s.index({rows, rows + r0});
    const auto full_lse = torch::logsumexp(s, 1);
    const auto sp = F::softplus(s);
    s.index_put_({rows, rows + r0}, ninf);
    diag_sum += diag.sum().to(torch::kDouble);
    infonce_sum += (diag - full_lse).sum().to(torch::kDouble);
    jsd_joint += (-F::softplus(-diag)).sum().to(torch::kDouble);
    sp_off += (sp.sum() - sp.index({rows, rows + r0}).sum()).to(torch::kDouble);
    row_lse.push_back(torch::logsumexp(s, 1).to(torch::kDouble));
  }
  const double nn = static_cast<double>(n);
  const double pairs = nn * (nn - 1.0);
  const double off_lse = torch::logsumexp(torch::cat(row_lse), 0).item<double>();
  MiValues v;
  v.cos_dv = diag_sum.item<double>() / nn - (off_lse - std::log(pairs));
  v.infonce = std::log(nn) + infonce_sum.item<double>() / nn;
  v.jsd = jsd_joint.item<double>() / nn - sp_off.item<double>() / pairs;
  return v;
}

}  // namespace

MiValues mi_estimates(const torch::Tensor& za, const torch::Tensor& zb, double temperature,
                      std::int64_t block) {
  TORCH_CHECK(za.dim() == 2 && za.sizes() == zb.sizes() && za.size(0) >= 2,
              "mi_estimates: inputs must both be N x D with N >= 2");
  torch::NoGradGuard no_grad;
  const auto a = unit_rows(za), b = unit_rows(zb);
  if (!torch::isfinite(a).all().item<bool>() || !torch::isfinite(b).all().item<bool>())
    return nan_values();
  if (a.device().is_cpu() && a.size(1) <= 64) return fused_cpu(a, b, temperature);
  return blockwise_unit(a, b, temperature, std::max<std::int64_t>(1, block));
}

MiValues mi_estimates_blockwise(const torch::Tensor& za, const torch::Tensor& zb, double temperature,
                                std::int64_t block) {
  torch::NoGradGuard no_grad;
  return blockwise_unit(unit_rows(za), unit_rows(zb), temperature, std::max<std::int64_t>(1, block));
}

MiValues mi_estimates_dense(const torch::Tensor& za, const torch::Tensor& zb, double temperature) {
  torch::NoGradGuard no_grad;
  const auto a = unit_rows(za).to(torch::kDouble), b = unit_rows(zb).to(torch::kDouble);
  const std::int64_t n = a.size(0);
  const double nn = static_cast<double>(n);
  const auto s = a.mm(b.t()) / temperature;
  const auto eye = torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(a.device()));
  const auto diag = s.diagonal();
  const auto off_lse = torch::logsumexp(s.masked_fill(eye, -std::numeric_limits<double>::infinity()).flatten(), 0);
  MiValues v;
  v.cos_dv = (diag.mean() - (off_lse - std::log(nn * (nn - 1.0)))).item<double>();
  v.infonce = (diag - torch::logsumexp(s, 1) + std::log(nn)).mean().item<double>();
  const auto sp = F::softplus(s);
  v.jsd = ((-F::softplus(-diag)).mean() - sp.masked_fill(eye, 0.0).sum() / (nn * (nn - 1.0))).item<double>();
  return v;
}

}  // namespace ssrl
