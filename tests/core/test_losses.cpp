// Every loss against values computed independently in plain Python
// (tests/golden/make_golden.py), in double precision through the tensor-op
// paths and in float through the fused kernels.
#include <gtest/gtest.h>

#include "golden.hpp"
#include "objectives/losses.hpp"

namespace ssrl {
namespace {

using test::golden_case;
using test::matrix;
using test::value;

struct Inputs {
  torch::Tensor a, b;
  const nlohmann::json* expect;
};

Inputs load(const std::string& name, torch::Dtype dtype) {
  const auto& c = golden_case(name);
  return {matrix(c["za"], dtype), matrix(c["zb"], dtype), &c["expect"]};
}

double expected(const Inputs& in, const std::string& key) { return (*in.expect)[key].get<double>(); }

class LossGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(LossGolden, CosDvWithMarginalMatchesReferenceInDoubleAndFloat) {
  for (double t : {0.1, 0.5, 1.0}) {
    const std::string key = "cos_dv_t" + std::string(t == 1.0 ? "1.0" : t == 0.5 ? "0.5" : "0.1");
    const auto d = load(GetParam(), torch::kDouble);
    EXPECT_NEAR(value(losses::cos_dv(d.a, d.b, t, true)), expected(d, key), 1e-10) << key;
    EXPECT_NEAR(value(losses::cos_dv_dense(d.a, d.b, t, true)), expected(d, key), 1e-10) << key;
    const auto f = load(GetParam(), torch::kFloat);  // fused kernel path
    EXPECT_NEAR(value(losses::cos_dv(f.a, f.b, t, true)), expected(f, key), 2e-5 * (1.0 / t)) << key;
  }
}

TEST_P(LossGolden, CosDvWithoutMarginalIsTheJointTermAlone) {
  for (const auto& [t, key] : {std::pair{0.1, "cos_dv_nomarg_t0.1"}, std::pair{1.0, "cos_dv_nomarg_t1.0"}}) {
    const auto d = load(GetParam(), torch::kDouble);
    EXPECT_NEAR(value(losses::cos_dv(d.a, d.b, t, false)), expected(d, key), 1e-10);
    EXPECT_NEAR(value(losses::cos_dv_dense(d.a, d.b, t, false)), expected(d, key), 1e-10);
  }
}

TEST_P(LossGolden, MoCoV3AndTaylorDvMatchReference) {
  for (auto dtype : {torch::kDouble, torch::kFloat}) {
    const double tol = dtype == torch::kDouble ? 1e-10 : 2e-5;
    const auto in = load(GetParam(), dtype);
    EXPECT_NEAR(value(losses::mocov3(in.a, in.b, 0.2)), expected(in, "mocov3_t0.2"), tol);
    EXPECT_NEAR(value(losses::mocov3(in.a, in.b, 1.0)), expected(in, "mocov3_t1.0"), tol);
    EXPECT_NEAR(value(losses::taylor_dv(in.a, in.b, 0.1, 0.5)), expected(in, "taylor_dv_t0.1_l0.5"), tol * 100);
    EXPECT_NEAR(value(losses::taylor_dv(in.a, in.b, 1.0, 0.3)), expected(in, "taylor_dv_t1.0_l0.3"), tol);
    EXPECT_NEAR(value(losses::neg_cosine(in.a, in.b)), expected(in, "neg_cosine"), tol);
    EXPECT_NEAR(value(losses::byol(in.a, in.b)), expected(in, "byol"), tol);
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, LossGolden, ::testing::Values("small", "n300"));

TEST(LossGoldenSmall, NtXentBarlowTwinsVicregMatchReference) {
  for (auto dtype : {torch::kDouble, torch::kFloat}) {
    const double tol = dtype == torch::kDouble ? 1e-10 : 1e-5;
    const auto in = load("small", dtype);
    EXPECT_NEAR(value(losses::nt_xent(in.a, in.b, 0.5)), expected(in, "nt_xent_t0.5"), tol);
    EXPECT_NEAR(value(losses::nt_xent(in.a, in.b, 0.1)), expected(in, "nt_xent_t0.1"), tol);
    EXPECT_NEAR(value(losses::barlow_twins(in.a, in.b, 0.005)), expected(in, "barlow_twins_l0.005"), tol);
    EXPECT_NEAR(value(losses::barlow_twins(in.a, in.b, 0.0051)), expected(in, "barlow_twins_l0.0051"), tol);
    EXPECT_NEAR(value(losses::vicreg(in.a, in.b, 25, 25, 1)), expected(in, "vicreg_25_25_1"), tol * 10);
  }
}

// Hand-computed: two orthogonal pairs, t = 1. Joint = 1, the off-diagonal
// cosines are 0, so the loss is -(1 - log(mean(e^0))) = -1; with the second
// row flipped the joint is 0 and the marginal stays 0.
TEST(LossByHand, CosDvOfOrthonormalPairs) {
  const auto a = torch::tensor({{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}}, torch::kDouble);
  EXPECT_NEAR(value(losses::cos_dv(a, a, 1.0, true)), -1.0, 1e-12);
  const auto b = torch::tensor({{1.0, 0.0, 0.0}, {0.0, -1.0, 0.0}}, torch::kDouble);
  EXPECT_NEAR(value(losses::cos_dv(a, b, 1.0, true)), 0.0, 1e-12);
  // Temperature scales every logit: joint 1/t = 2, marginal log mean e^0 = 0.
  EXPECT_NEAR(value(losses::cos_dv(a, a, 0.5, true)), -2.0, 1e-12);
  EXPECT_NEAR(value(losses::cos_dv(a, a, 0.5, false)), -2.0, 1e-12);
  EXPECT_NEAR(value(losses::cos_dv(a.to(torch::kFloat), a.to(torch::kFloat), 0.5, true)), -2.0, 1e-6);
}

// The fused kernels' analytic backward against autograd through the dense
// N x N path, on sizes that span several column blocks.
TEST(FusedKernels, GradientsMatchDenseAutograd) {
  auto gen = at::detail::createCPUGenerator(3);
  for (std::int64_t n : {2, 7, 257, 600}) {
    const auto a0 = torch::randn({n, 3}, gen, torch::kDouble);
    const auto b0 = a0 + 0.5 * torch::randn({n, 3}, gen, torch::kDouble);
    for (double t : {0.1, 0.5}) {
      auto af = a0.to(torch::kFloat).requires_grad_(true), bf = b0.to(torch::kFloat).requires_grad_(true);
      auto ad = a0.clone().requires_grad_(true), bd = b0.clone().requires_grad_(true);
      const auto lf = losses::cos_dv(af, bf, t, true);
      const auto ld = losses::cos_dv_dense(ad, bd, t, true);
      lf.backward();
      ld.backward();
      EXPECT_NEAR(lf.item<double>(), ld.item<double>(), 1e-4) << "n=" << n << " t=" << t;
      EXPECT_TRUE(torch::allclose(af.grad().to(torch::kDouble), ad.grad(), 1e-3, 1e-5)) << "n=" << n << " t=" << t;
      EXPECT_TRUE(torch::allclose(bf.grad().to(torch::kDouble), bd.grad(), 1e-3, 1e-5)) << "n=" << n << " t=" << t;
    }
    // Row log-sum-exp with and without the diagonal, through NT-Xent and MoCo.
    auto af = a0.to(torch::kFloat).requires_grad_(true), bf = b0.to(torch::kFloat).requires_grad_(true);
    auto ad = a0.clone().requires_grad_(true), bd = b0.clone().requires_grad_(true);
    if (n >= 2) {
      const auto lf = losses::nt_xent(af, bf, 0.2) + losses::mocov3(af, bf, 0.2);
      const auto ld = losses::nt_xent(ad, bd, 0.2) + losses::mocov3(ad, bd, 0.2);
      lf.backward();
      ld.backward();
      EXPECT_NEAR(lf.item<double>(), ld.item<double>(), 1e-4) << "n=" << n;
      EXPECT_TRUE(torch::allclose(af.grad().to(torch::kDouble), ad.grad(), 1e-3, 1e-5)) << "n=" << n;
      EXPECT_TRUE(torch::allclose(bf.grad().to(torch::kDouble), bd.grad(), 1e-3, 1e-5)) << "n=" << n;
    }
  }
}

// A stopped branch (detach) gets no gradient from the fused kernel.
TEST(FusedKernels, DetachedTargetGetsNoGradient) {
  auto gen = at::detail::createCPUGenerator(5);
  auto a = torch::randn({50, 3}, gen, torch::kFloat).requires_grad_(true);
  auto b = torch::randn({50, 3}, gen, torch::kFloat).requires_grad_(true);
  losses::cos_dv(a, b.detach(), 0.1, true).backward();
  EXPECT_TRUE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}

TEST(FusedKernels, NonFiniteInputGivesNonFiniteLoss) {
  auto a = torch::ones({8, 3}, torch::kFloat);
  a[3][1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(std::isfinite(value(losses::cos_dv(a, torch::ones({8, 3}), 0.1, true))));
}

// The JMI prototype computes the symmetric loss once: both view orders give
// transposed similarity matrices with the same value.
TEST(LossSymmetry, CosDvIsSymmetricUnderSwappingBranches) {
  auto gen = at::detail::createCPUGenerator(11);
  const auto a = torch::randn({40, 3}, gen, torch::kDouble), b = torch::randn({40, 3}, gen, torch::kDouble);
  const double ab = value(losses::cos_dv(a, b, 0.1, true)), ba = value(losses::cos_dv(b, a, 0.1, true));
  EXPECT_NEAR(ab, ba, 1e-12);
  EXPECT_NEAR(0.5 * (ab + ba), ab, 1e-12);
}

// Taylor-DV is computed in O(N D^2); check the analytic sums against the
// plain pairwise form on random data (the golden file covers N = 4 and 300).
TEST(LossSymmetry, TaylorDvAnalyticMatchesPairwise) {
  auto gen = at::detail::createCPUGenerator(13);
  const auto a = torch::randn({31, 3}, gen, torch::kDouble), b = torch::randn({31, 3}, gen, torch::kDouble);
  namespace F = torch::nn::functional;
  const auto s = F::normalize(a, F::NormalizeFuncOptions().dim(1)).mm(F::normalize(b, F::NormalizeFuncOptions().dim(1)).t()) / 0.2;
  const auto mask = ~torch::eye(31, torch::kBool);
  const auto off = s.masked_select(mask);
  const double pairwise = (-s.diagonal().mean() + off.mean() + 0.7 * off.var(0, /*unbiased=*/false)).item<double>();
  EXPECT_NEAR(value(losses::taylor_dv(a, b, 0.2, 0.7)), pairwise, 1e-10);
}

// MoCo-v2, DINO, SwAV and W-MSE against plain-Python references.
TEST(LossGoldenHeads, QueueDinoSwavAndWmseMatchReference) {
  const auto& c = golden_case("heads");
  const auto& e = c["expect"];
  for (auto dtype : {torch::kDouble, torch::kFloat}) {
    const double tol = dtype == torch::kDouble ? 1e-10 : 2e-5;
    const auto a = matrix(c["za"], dtype), b = matrix(c["zb"], dtype);
    const auto tc = matrix(c["zc"], dtype), td = matrix(c["zd"], dtype);
    const auto queue = matrix(c["queue"], dtype), center = matrix(c["center"], dtype);
    EXPECT_NEAR(value(losses::moco_queue(a, b, queue, 0.2)), e["moco_queue_t0.2"].get<double>(), tol);
    EXPECT_NEAR(value(losses::moco_queue(a, b, queue, 1.0)), e["moco_queue_t1.0"].get<double>(), tol);
    EXPECT_NEAR(value(losses::dino(a, b, tc, td, center, 0.1, 0.04)), e["dino_ts0.1_tt0.04"].get<double>(), tol * 10);
    EXPECT_NEAR(value(losses::dino(a, b, tc, td, center, 0.5, 0.2)), e["dino_ts0.5_tt0.2"].get<double>(), tol);
    EXPECT_TRUE(torch::allclose(losses::sinkhorn(a, 0.05, 3).to(torch::kDouble), matrix(e["sinkhorn_a"], torch::kDouble),
                                1e-4, tol));
    const auto qa = losses::sinkhorn(a, 0.05, 3), qb = losses::sinkhorn(b, 0.05, 3);
    EXPECT_NEAR(value(losses::swav(a, b, qa, qb, 0.1)), e["swav_eps0.05_t0.1"].get<double>(), tol * 10);
    const auto qa1 = losses::sinkhorn(a, 0.5, 3), qb1 = losses::sinkhorn(b, 0.5, 3);
    EXPECT_NEAR(value(losses::swav(a, b, qa1, qb1, 1.0)), e["swav_eps0.5_t1.0"].get<double>(), tol);
    EXPECT_TRUE(torch::allclose(losses::whiten(a).to(torch::kDouble), matrix(e["whiten_a"], torch::kDouble), 1e-4, tol));
    auto gen = at::detail::createCPUGenerator(1);
    // One sub-batch (w_size = N): the random order does not change the value.
    EXPECT_NEAR(value(losses::w_mse(a, b, 5, 1, gen)), e["w_mse_one_block"].get<double>(), tol);
    EXPECT_NEAR(value(losses::w_mse(a, b, 5, 3, gen)), e["w_mse_one_block"].get<double>(), tol);
    const auto wa = matrix(c["wa"], dtype), wb = matrix(c["wb"], dtype);
    EXPECT_NEAR(value(losses::w_mse(wa, wb, 64, 1, gen)), e["w_mse_n64_one_block"].get<double>(), tol);
  }
}

// Hand-computed: a query equal to its key, negatives orthogonal to it, t = 1:
// loss = log(e^1 + 2 e^0) - 1. DINO with equal teacher and student rows and
// one-hot-like logits; Sinkhorn on a square score matrix spreads mass evenly.
TEST(LossByHand, MocoQueueDinoSinkhornAndWhitening) {
  const auto q = torch::tensor({{1.0, 0.0, 0.0}}, torch::kDouble);
  const auto queue = torch::tensor({{0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}}, torch::kDouble);
  EXPECT_NEAR(value(losses::moco_queue(q, q, queue, 1.0)), std::log(std::exp(1.0) + 2.0) - 1.0, 1e-12);
  // Uniform scores: the teacher's softmax and the student's are uniform over
  // K = 4, so the cross-entropy is log 4 whatever the temperatures.
  const auto u = torch::zeros({3, 4}, torch::kDouble), c = torch::zeros({1, 4}, torch::kDouble);
  EXPECT_NEAR(value(losses::dino(u, u, u, u, c, 0.1, 0.04)), std::log(4.0), 1e-12);
  // The centre is subtracted before the teacher's softmax: a centre equal to
  // the teacher's scores makes the teacher uniform again.
  const auto t = torch::tensor({{1.0, 0.0, 0.0, 0.0}}, torch::kDouble);
  EXPECT_NEAR(value(losses::dino(u.narrow(0, 0, 1), u.narrow(0, 0, 1), t, t, t, 0.1, 0.04)), std::log(4.0), 1e-12);
  // Sinkhorn: every row sums to 1 and every prototype gets N / K of the mass.
  auto gen = at::detail::createCPUGenerator(2);
  const auto s = torch::randn({12, 4}, gen, torch::kDouble) * 0.3;
  const auto codes = losses::sinkhorn(s, 0.5, 200);
  EXPECT_TRUE(torch::allclose(codes.sum(1), torch::ones({12}, torch::kDouble), 1e-9, 1e-9));
  EXPECT_TRUE(torch::allclose(codes.sum(0), torch::full({4}, 3.0, torch::kDouble), 1e-6, 1e-6));
  // Whitened rows have zero mean and identity covariance.
  const auto x = torch::randn({40, 3}, gen, torch::kDouble).mm(torch::tensor({{2.0, 0.5, 0.0}, {0.0, 1.0, 0.3}, {0.1, 0.0, 0.2}}, torch::kDouble));
  const auto w = losses::whiten(x);
  EXPECT_TRUE(torch::allclose(w.mean(0), torch::zeros({3}, torch::kDouble), 1e-9, 1e-9));
  EXPECT_TRUE(torch::allclose(w.t().mm(w) / 39.0, torch::eye(3, torch::kDouble), 1e-9, 1e-9));
}

// main_dino.py's schedule: np.linspace(0.04, 0.07, 30) then 0.07.
TEST(LossByHand, DinoTeacherTemperatureWarmsUpLinearly) {
  EXPECT_DOUBLE_EQ(losses::dino_teacher_temp(0.04, 0.07, 30, 0), 0.04);
  EXPECT_NEAR(losses::dino_teacher_temp(0.04, 0.07, 30, 29), 0.07, 1e-15);
  EXPECT_NEAR(losses::dino_teacher_temp(0.04, 0.07, 30, 10), 0.04 + 0.03 * 10.0 / 29.0, 1e-15);
  EXPECT_DOUBLE_EQ(losses::dino_teacher_temp(0.04, 0.07, 30, 500), 0.07);
  EXPECT_DOUBLE_EQ(losses::dino_teacher_temp(0.04, 0.07, 0, 0), 0.07);
  EXPECT_DOUBLE_EQ(losses::dino_teacher_temp(0.04, 0.07, 1, 0), 0.04);
}

TEST(LossByHand, WhiteningRefusesTooFewRows) {
  const auto x = torch::randn({3, 3}, torch::kDouble);
  EXPECT_THROW(losses::whiten(x), c10::Error);
  auto gen = at::detail::createCPUGenerator(2);
  EXPECT_THROW(losses::w_mse(x, x, 8, 1, gen), c10::Error);
}

// solo-learn's check: a few gradient steps on a loss lower it.
TEST(LossDescent, EveryLossFallsUnderGradientSteps) {
  using Fn = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;
  const std::vector<std::pair<std::string, Fn>> all = {
      {"cos-dv", [](const auto& a, const auto& b) { return losses::cos_dv(a, b, 0.1, true); }},
      {"nt-xent", [](const auto& a, const auto& b) { return losses::nt_xent(a, b, 0.1); }},
      {"mocov3", [](const auto& a, const auto& b) { return losses::mocov3(a, b, 0.1); }},
      {"barlow", [](const auto& a, const auto& b) { return losses::barlow_twins(a, b, 5e-3); }},
      {"vicreg", [](const auto& a, const auto& b) { return losses::vicreg(a, b, 25, 25, 1); }},
      {"taylor", [](const auto& a, const auto& b) { return losses::taylor_dv(a, b, 0.5, 0.5); }},
      {"byol", [](const auto& a, const auto& b) { return losses::byol(a, b); }},
      {"neg-cos", [](const auto& a, const auto& b) { return losses::neg_cosine(a, b); }},
      {"moco-queue", [](const auto& a, const auto& b) { 
         const auto neg = b.detach().flip(0);
         return losses::moco_queue(a, b.detach(), neg / neg.norm(2, 1, true), 0.2);
       }},
      // DINO and SwAV against fixed teacher scores / codes (the targets carry no gradient).
      {"dino", [](const auto& a, const auto& b) {
         auto g = at::detail::createCPUGenerator(5);
         const auto t1 = torch::randn({64, 3}, g, torch::kFloat), t2 = torch::randn({64, 3}, g, torch::kFloat);
         return losses::dino(a, b, t1, t2, torch::zeros({1, 3}), 0.1, 0.04);
       }},
      {"swav", [](const auto& a, const auto& b) {
         auto g = at::detail::createCPUGenerator(6);
         const auto c1 = losses::sinkhorn(torch::randn({64, 3}, g, torch::kFloat), 0.05, 3);
         const auto c2 = losses::sinkhorn(torch::randn({64, 3}, g, torch::kFloat), 0.05, 3);
         return losses::swav(a, b, c1, c2, 0.1);
       }},
      {"w-mse", [](const auto& a, const auto& b) {
         auto g = at::detail::createCPUGenerator(4);
         return losses::w_mse(a, b, 16, 1, g);
       }},
  };
  for (const auto& [name, fn] : all) {
    auto gen = at::detail::createCPUGenerator(17);
    auto a = torch::randn({64, 3}, gen, torch::kFloat).requires_grad_(true);
    auto b = torch::randn({64, 3}, gen, torch::kFloat).requires_grad_(true);
    torch::optim::SGD opt({a, b}, torch::optim::SGDOptions(0.05));
    const double first = fn(a, b).item<double>();
    for (int i = 0; i < 20; ++i) {
      opt.zero_grad();
      fn(a, b).backward();
      opt.step();
    }
    EXPECT_LT(fn(a, b).item<double>(), first) << name;
  }
}

}  // namespace
}  // namespace ssrl
