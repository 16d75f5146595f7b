#include "ssrl/bench.hpp"

#include <algorithm>
#include <chrono>

#include "losses.hpp"
#include "memory_probe.hpp"
#include "mi.hpp"

namespace ssrl {
namespace {

template <class Fn>
BenchRow measure(const std::string& what, const std::string& path, std::int64_t n, std::int64_t d,
                 int repeats, Fn fn) {
  BenchRow row{what, path, n, d, 0, 0, 0, repeats};
  std::vector<double> ms;
  // The warm-up call is also the one whose memory is reported.
  row.peak_mib = static_cast<double>(peak_tensor_bytes(fn)) / (1024.0 * 1024.0);
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  row.ms_median = ms[ms.size() / 2];
  row.ms_min = ms.front();
  return row;
}

}  // namespace

std::vector<BenchRow> run_kernel_benchmarks(const BenchOptions& opt,
                                            const std::function<void(const BenchRow&)>& progress) {
  std::vector<BenchRow> rows;
  auto emit = [&](BenchRow r) {
    if (progress) progress(r);
    rows.push_back(std::move(r));
  };
  auto gen = at::detail::createCPUGenerator(7);
  const std::int64_t d = opt.dim;
  const int rep = std::max(1, opt.repeats);
  for (std::int64_t n : opt.sizes) {
    const auto a0 = torch::randn({n, d}, gen, torch::kFloat);
    const auto b0 = a0 + 0.3 * torch::randn({n, d}, gen, torch::kFloat);
    auto fwd_bwd = [&](auto loss_fn) {
      return [&, loss_fn] {
        auto a = a0.clone().requires_grad_(true);
        auto b = b0.clone().requires_grad_(true);
        loss_fn(a, b).backward();
      };
    };
    emit(measure("cos-DV loss fwd+bwd", "fused blockwise", n, d, rep,
                 fwd_bwd([](auto& a, auto& b) { return losses::cos_dv(a, b, 0.1, true); })));
    if (opt.dense)
      emit(measure("cos-DV loss fwd+bwd", "dense N x N", n, d, rep,
                   fwd_bwd([](auto& a, auto& b) { return losses::cos_dv_dense(a, b, 0.1, true); })));
    emit(measure("Taylor-DV loss fwd+bwd", "analytic O(N D^2)", n, d, rep,
                 fwd_bwd([](auto& a, auto& b) { return losses::taylor_dv(a, b, 0.1, 0.5); })));
    emit(measure("NT-Xent loss fwd+bwd", "fused row blocks", n, d, rep,
                 fwd_bwd([](auto& a, auto& b) { return losses::nt_xent(a, b, 0.1); })));
    emit(measure("MoCo-v3 loss fwd+bwd", "fused row blocks", n, d, rep,
                 fwd_bwd([](auto& a, auto& b) { return losses::mocov3(a, b, 0.1); })));
    emit(measure("Barlow Twins loss fwd+bwd", "D x D", n, d, rep,
                 fwd_bwd([](auto& a, auto& b) { return losses::barlow_twins(a, b, 5e-3); })));
    emit(measure("VICReg loss fwd+bwd", "D x D", n, d, rep,
                 fwd_bwd([](auto& a, auto& b) { return losses::vicreg(a, b, 25, 25, 1); })));
    emit(measure("MI estimates (3 bounds)", "fused blockwise", n, d, rep,
                 [&] { mi_estimates(a0, b0, 1.0, 256); }));
    emit(measure("MI estimates (3 bounds)", "tensor blocks of 256 rows", n, d, rep,
                 [&] { mi_estimates_blockwise(a0, b0, 1.0, 256); }));
    if (opt.dense)
      emit(measure("MI estimates (3 bounds)", "dense N x N", n, d, rep,
                   [&] { mi_estimates_dense(a0, b0, 1.0); }));
  }
  return rows;
}

}  // namespace ssrl
