// Collapse indicators, cluster centres and separation statistics.
#include <gtest/gtest.h>

#include <cmath>

#include "golden.hpp"
#include "evaluation/metrics.hpp"
#include "ssrl/records.hpp"

namespace ssrl {
namespace {

TEST(Metrics, EmbeddingStdMatchesReferenceAndIsZeroWhenCollapsed) {
  const auto& c = test::golden_case("small");
  EXPECT_NEAR(embedding_std(test::matrix(c["za"], torch::kDouble)), c["expect"]["embedding_std_a"].get<double>(), 1e-12);
  EXPECT_NEAR(embedding_std(torch::ones({20, 3})), 0.0, 1e-7);
}

TEST(Metrics, EffectiveRankByHand) {
  // Singular values (1, 1, 1): p = 1/3 + 1e-7 each, rank ~ 3.
  EXPECT_NEAR(effective_rank(torch::eye(3, torch::kDouble)), 3.0, 1e-5);
  // A rank-one matrix: p = (1 + 1e-7, 1e-7, 1e-7) -> rank ~ 1.
  EXPECT_NEAR(effective_rank(torch::ones({5, 3}, torch::kDouble)), 1.0, 1e-4);
  // Singular values (2, 1): p = (2/3, 1/3) -> exp(H).
  const auto m = torch::tensor({{2.0, 0.0}, {0.0, 1.0}}, torch::kDouble);
  const double h = -(2.0 / 3 * std::log(2.0 / 3) + 1.0 / 3 * std::log(1.0 / 3));
  EXPECT_NEAR(effective_rank(m), std::exp(h), 1e-5);
}

TEST(Metrics, ClusterCentresAreRenormalisedMeans) {
  const auto z = torch::tensor({{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}, {0.0, 0.0, 1.0}}, torch::kDouble);
  const auto labels = torch::tensor({0, 0, 1, 1}, torch::kLong);
  const auto c = cluster_centres(z, labels, 2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_NEAR(c[0].x, 1.0 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(c[0].y, 1.0 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(c[0].z, 0.0, 1e-12);
  EXPECT_NEAR(c[1].z, 1.0, 1e-12);
}

TEST(Separation, TriangularBipyramidIsTheNinetyDegreeOptimum) {
  const double s = std::sqrt(3.0) / 2.0;
  const std::vector<Vec3> bipyramid = {{0, 0, 1}, {0, 0, -1}, {1, 0, 0}, {-0.5, s, 0}, {-0.5, -s, 0}};
  const auto st = separation_stats(bipyramid);
  EXPECT_NEAR(st.min, 90.0, 1e-9);
  EXPECT_NEAR(st.max, 90.0, 1e-9);
  EXPECT_NEAR(st.mean, 90.0, 1e-9);
  EXPECT_NEAR(st.sd, 0.0, 1e-9);
  EXPECT_DOUBLE_EQ(*tammes_optimum_deg(5), 90.0);
}

TEST(Separation, PentagonOnAGreatCircleAndMergedCentres) {
  std::vector<Vec3> pentagon;
  for (int k = 0; k < 5; ++k) pentagon.push_back({std::cos(2 * M_PI * k / 5), std::sin(2 * M_PI * k / 5), 0});
  EXPECT_NEAR(separation_stats(pentagon).min, 72.0, 1e-9);
  // Four centres together and one at 60 degrees: nearest angles 0,0,0,0,60.
  const std::vector<Vec3> merged = {{1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {1, 0, 0}, {0.5, std::sqrt(3.0) / 2, 0}};
  const auto st = separation_stats(merged);
  EXPECT_NEAR(st.min, 0.0, 1e-6);
  EXPECT_NEAR(st.max, 60.0, 1e-9);
  EXPECT_NEAR(st.mean, 12.0, 1e-6);
  EXPECT_NEAR(st.sd, std::sqrt((4 * 144.0 + 48.0 * 48.0) / 5.0), 1e-6);
}

}  // namespace
}  // namespace ssrl
