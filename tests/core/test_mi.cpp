// The three MI lower bounds of docs/science.md §4 against plain-Python references, on
// every path (fused kernel, tensor row blocks, dense), and their memory.
#include <gtest/gtest.h>

#include "golden.hpp"
#include "bench/memory_probe.hpp"
#include "objectives/mi.hpp"

namespace ssrl {
namespace {

void expect_mi(const MiValues& v, const nlohmann::json& e, double tol, const std::string& what) {
  EXPECT_NEAR(v.cos_dv, e["cos_dv"].get<double>(), tol) << what;
  EXPECT_NEAR(v.infonce, e["infonce"].get<double>(), tol) << what;
  EXPECT_NEAR(v.jsd, e["jsd"].get<double>(), tol) << what;
}

TEST(MiEstimates, MatchReferenceOnEveryPath) {
  for (const char* name : {"small", "n300"}) {
    const auto& c = test::golden_case(name);
    const auto a = test::matrix(c["za"], torch::kDouble), b = test::matrix(c["zb"], torch::kDouble);
    for (const auto& [t, key] : {std::pair{0.1, "mi_t0.1"}, std::pair{0.5, "mi_t0.5"}, std::pair{1.0, "mi_t1.0"}}) {
      const auto& e = c["expect"][key];
      const std::string what = std::string(name) + " " + key;
      expect_mi(mi_estimates_dense(a, b, t), e, 1e-10, what + " dense");
      expect_mi(mi_estimates_blockwise(a, b, t, 64), e, 1e-10, what + " tensor blocks");
      expect_mi(mi_estimates_blockwise(a, b, t, 1), e, 1e-10, what + " blocks of one row");
      expect_mi(mi_estimates(a, b, t), e, 2e-5 / t, what + " fused");
    }
  }
}

TEST(MiEstimates, InfoNceIsBoundedByLogN) {
  // Perfectly aligned, well separated pairs with a sharp critic approach log N.
  const auto eye = torch::eye(3, torch::kDouble);
  const auto v = mi_estimates(eye, eye, 0.01);
  EXPECT_LE(v.infonce, std::log(3.0) + 1e-9);
  EXPECT_NEAR(v.infonce, std::log(3.0), 1e-6);
}

// Hand-computed: identical orthonormal rows, t = 1: diagonal 1, off-diagonal 0.
// cos-DV = 1 - log(mean e^0) = 1; InfoNCE = 1 - log((e + 2)/3);
// JSD = -softplus(-1) - softplus(0) = -log(1 + e^-1) - log 2.
TEST(MiEstimates, OrthonormalByHand) {
  const auto eye = torch::eye(3, torch::kDouble);
  const auto v = mi_estimates_dense(eye, eye, 1.0);
  EXPECT_NEAR(v.cos_dv, 1.0, 1e-12);
  EXPECT_NEAR(v.infonce, 1.0 - std::log((std::exp(1.0) + 2.0) / 3.0), 1e-12);
  EXPECT_NEAR(v.jsd, -std::log1p(std::exp(-1.0)) - std::log(2.0), 1e-12);
  const auto f = mi_estimates(eye.to(torch::kFloat), eye.to(torch::kFloat), 1.0);
  EXPECT_NEAR(f.infonce, v.infonce, 1e-6);
  EXPECT_NEAR(f.jsd, v.jsd, 1e-6);
}

// docs/science.md §4: memory O(N * block), not O(N^2).
TEST(MiEstimates, BlockwiseMemoryDoesNotGrowQuadratically) {
  auto gen = at::detail::createCPUGenerator(1);
  std::vector<std::int64_t> peaks;
  for (std::int64_t n : {1000, 4000}) {
    const auto a = torch::randn({n, 3}, gen, torch::kFloat), b = torch::randn({n, 3}, gen, torch::kFloat);
    peaks.push_back(peak_tensor_bytes([&] { mi_estimates(a, b, 1.0, 256); }));
    const auto blocks = peak_tensor_bytes([&] { mi_estimates_blockwise(a, b, 1.0, 256); });
    // One 256 x N block of floats and a few like it, never N x N.
    EXPECT_LT(blocks, 8 * 256 * n * 4) << n;
    EXPECT_LT(blocks, n * n * 4) << n;
  }
  // Fused: O(N D); 4x the points may cost at most ~4x the memory.
  EXPECT_LT(peaks[1], 5 * peaks[0] + 4096);
  EXPECT_LT(peaks[1], 4000 * 3 * 4 * 16);
}

TEST(MiEstimates, NonFiniteEmbeddingsGiveNaNNotGarbage) {
  auto a = torch::ones({10, 3});
  a[2][0] = std::numeric_limits<float>::infinity();
  const auto v = mi_estimates(a, torch::ones({10, 3}), 1.0);
  EXPECT_TRUE(std::isnan(v.cos_dv));
}

}  // namespace
}  // namespace ssrl
