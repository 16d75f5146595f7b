// The methods' heads against their published architecture, and the losses
// that take the raw (un-normalised) projection against hand-computed values.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "golden.hpp"

#include "models/encoders.hpp"
#include "objectives/losses.hpp"
#include "ssrl/config.hpp"
#include "ssrl/methods.hpp"

using namespace ssrl;

namespace {

std::int64_t count(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// The built projector as a layer list, in head_layers()'s words: its
// modules in registration order (fc_i, then bn_i), a ReLU before every
// Linear but the first.
std::vector<std::string> describe(torch::nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& item : m.named_children()) {
    const auto& mod = item.value();
    if (auto* lin = mod->as<torch::nn::Linear>()) {
      if (!out.empty()) out.push_back("ReLU");
      const auto& o = lin->options;
      out.push_back("Linear(" + std::to_string(o.in_features()) + ", " + std::to_string(o.out_features()) +
                    (o.bias() ? ", bias)" : ", no bias)"));
    } else if (auto* bn = mod->as<torch::nn::BatchNorm1d>()) {
      const auto& o = bn->options;
      out.push_back("BatchNorm1d(" + std::to_string(o.num_features()) + (o.affine() ? ")" : ", affine=false)"));
    }
  }
  return out;
}

constexpr std::int64_t F = 512, H = 64, D = 32, P = 16;

nlohmann::json sizes(const std::string& method, int layers) {
  auto j = to_json(ConfigBuilder(method, "cifar10").build(false));
  j["proj_layers"] = layers;
  j["proj_hidden"] = H;
  j["proj_dim"] = D;
  j["predictor_hidden"] = P;
  return j;
}

ImageEncoderOptions options(const MethodInfo& m, const nlohmann::json& s) {
  ImageEncoderOptions o;
  o.proj_layers = s["proj_layers"].get<int>();
  o.proj_hidden = H;
  o.proj_dim = D;
  o.hidden_bias = m.head.hidden_bias;
  o.hidden_bn = m.head.hidden_bn;
  o.out_bias = m.head.out_bias;
  o.out_norm = s["proj_out_norm"].get<std::string>();
  return o;
}

}  // namespace

// Trainable parameters of each published head at F = 512, hidden 64, output
// 32, predictor hidden 16, with the layer count of the published small-image
// code (vturrisi/solo-learn solo/methods/*.py and scripts/pretrain/cifar).
TEST(Heads, ProjectorsAndPredictorsHaveThePublishedLayersAndParameterCounts) {
  struct Expect {
    const char* method;
    int layers;
    const char* out_norm;
    std::int64_t projector, predictor;  // predictor 0: none
  };
  const std::vector<Expect> published = {
      // SimSiam: Linear(no bias) BN ReLU x2, Linear(bias frozen: not trainable, so
      // left out here) BN(affine=False); predictor Linear(no bias) BN ReLU Linear(bias).
      {"simsiam", 3, "bn", F * H + 2 * H + H * H + 2 * H + H * D, D * P + 2 * P + P * D + D},
      // BYOL: Linear BN ReLU Linear, all with bias; predictor the same.
      {"byol", 2, "none", F * H + H + 2 * H + H * D + D, D * P + P + 2 * P + P * D + D},
      // MoCo-v3 _build_mlp: no bias anywhere, BN(affine=False) at the projector's end.
      {"mocov3", 2, "bn", F * H + 2 * H + H * D, D * P + 2 * P + P * D},
      // SimCLR: Linear ReLU Linear.
      {"simclr", 2, "none", F * H + H + H * D + D, 0},
      // Barlow Twins and VICReg: (Linear BN ReLU) x2, Linear, all with bias.
      {"barlow-twins", 3, "none", F * H + H + 2 * H + H * H + H + 2 * H + H * D + D, 0},
      {"vicreg", 3, "none", F * H + H + 2 * H + H * H + H + 2 * H + H * D + D, 0},
      // The workbench's prototypes (a choice, see sdmi.cpp): SimSiam's layout.
      {"sdmi", 3, "bn", F * H + 2 * H + H * H + 2 * H + H * D, 0},
      {"jmi", 2, "bn", F * H + 2 * H + H * D, 0},
  };
  for (const auto& e : published) {
    SCOPED_TRACE(e.method);
    const MethodInfo& m = find_method(e.method);
    auto s = sizes(e.method, e.layers);
    EXPECT_EQ(s["proj_out_norm"], e.out_norm);
    auto proj = make_projector(F, options(m, s));
    EXPECT_EQ(count(*proj), e.projector);
    const HeadLayers layers = head_layers(m, s, std::to_string(F));
    EXPECT_EQ(describe(*proj), layers.projector);
    if (e.predictor > 0) {
      Predictor pred(D, P, m.head.pred_hidden_bias, m.head.pred_out_bias);
      EXPECT_EQ(count(*pred), e.predictor);
      EXPECT_EQ(layers.predictor.size(), 4u);
    } else {
      EXPECT_TRUE(layers.predictor.empty());
    }
    EXPECT_FALSE(m.head.source.empty());
  }
}

TEST(Heads, OutputNormSettingBuildsWhatItSays) {
  const MethodInfo& m = find_method("simclr");
  auto s = sizes("simclr", 2);
  for (const char* norm : {"bn", "bn-affine", "none"}) {
    s["proj_out_norm"] = norm;
    auto o = options(m, s);
    o.backbone = "small-cnn";
    o.in_channels = 1;
    auto enc = make_image_encoder(o);
    const auto x = torch::randn({6, 1, 28, 28});
    const auto raw = enc->project(x);
    EXPECT_TRUE(torch::allclose(enc->forward(x), raw / raw.norm(2, 1, true), 1e-5, 1e-6));
    EXPECT_EQ(enc->out_scale().defined(), std::string(norm) == "bn-affine") << norm;
    if (std::string(norm) == "bn") {  // training-mode BN without affine: mean 0, variance v / (v + eps) per feature
      EXPECT_LT(raw.mean(0).abs().max().item<double>(), 1e-4);
      EXPECT_NEAR(raw.var(0, false).mean().item<double>(), 1.0, 0.05);
    }
  }
}

TEST(Heads, VariantsKeepTheirParentsHeads) {
  for (const auto& m : all_methods()) {
    if (!m.is_variant()) continue;
    SCOPED_TRACE(m.name);
    const MethodInfo& parent = find_method(m.base);
    EXPECT_EQ(m.head.source, parent.head.source);
    EXPECT_EQ(m.head.hidden_bias, parent.head.hidden_bias);
    EXPECT_EQ(m.head.out_bias, parent.head.out_bias);
    EXPECT_EQ(m.head.pred_hidden_bias, parent.head.pred_hidden_bias);
    EXPECT_EQ(ConfigBuilder(m.name, "cifar10").build(false).proj_out_norm,
              ConfigBuilder(m.base, "cifar10").build(false).proj_out_norm);
  }
}

// Worked by hand on raw inputs (rows not unit length): these two losses act
// on the projection itself, so L2-normalising first would change them.
TEST(Heads, VicregAndBarlowOnRawInputsMatchHandComputedValues) {
  // VICReg, N = 2, D = 2: invariance mean((0, .5, 0, .5)^2) = 0.125; variance
  // per view ((1 - sqrt(0.5 + 1e-4)) + (1 - sqrt(1e-4))) / 2; covariance 0.
  const auto a = torch::tensor({{0.0, 0.0}, {1.0, 0.0}}, torch::kDouble);
  const auto b = torch::tensor({{0.0, 0.5}, {1.0, 0.5}}, torch::kDouble);
  const double var_term = ((1 - std::sqrt(0.5001)) + (1 - std::sqrt(1e-4))) / 2;
  EXPECT_NEAR(losses::vicreg(a, b, 25, 25, 1).item<double>(), 25 * 0.125 + 25 * var_term, 1e-12);
  EXPECT_NEAR(losses::vicreg(a, b, 25, 25, 1).item<double>(), 19.16028139588143, 1e-12);
  // Barlow Twins, N = 2: each standardised column is +-s with s = 1/sqrt(1 + eps/var);
  // C = [[-s1^2, s1 s2], [-s1^2, s1 s2]] with var 1 (s1) and 4 (s2).
  const auto c = torch::tensor({{1.0, 0.0}, {3.0, 2.0}}, torch::kDouble);
  const auto d = torch::tensor({{2.0, 1.0}, {0.0, 5.0}}, torch::kDouble);
  const double s1 = 1 / std::sqrt(1 + 1e-5), s2 = 2 / std::sqrt(4 + 1e-5);
  const double bt = std::pow(1 + s1 * s1, 2) + std::pow(1 - s1 * s2, 2) + 0.005 * (std::pow(s1 * s2, 2) + std::pow(s1, 4));
  EXPECT_NEAR(losses::barlow_twins(c, d, 0.005).item<double>(), bt, 1e-12);
  // And the workbench's VICReg can now meet its target: unit-SD raw features
  // give a zero variance term, where L2-normalised rows (SD ~ 1/sqrt(D)) cannot.
  auto gen = at::detail::createCPUGenerator(5);
  const auto z = torch::randn({4096, 16}, gen, torch::kDouble);
  const auto zs = (z - z.mean(0)) / z.std(0) * 1.2;
  EXPECT_NEAR(losses::vicreg(zs, zs, 0, 1, 0).item<double>(), 0.0, 1e-12);
  const auto u = zs / zs.norm(2, 1, true);
  EXPECT_GT(losses::vicreg(u, u, 0, 1, 0).item<double>(), 0.7);
}

// Against a maintained peer library: lightly's losses on the golden inputs
// (tests/golden/make_golden.py --lightly; lightly is not needed here).
TEST(Heads, LossesAgreeWithLightly) {
  std::ifstream in(std::string(WB_TEST_DATA) + "/golden/golden_lightly.json");
  ASSERT_TRUE(in.good());
  const auto peer = nlohmann::json::parse(in);
  for (const auto& pc : peer["cases"]) {
    const std::string name = pc["name"];
    SCOPED_TRACE(name);
    const auto& e = pc["expect"];
    const auto& c = test::golden_case(name);
    for (auto dtype : {torch::kDouble, torch::kFloat}) {
      const double tol = dtype == torch::kDouble ? 1e-9 : 2e-4;
      const auto a = test::matrix(c["za"], dtype), b = test::matrix(c["zb"], dtype);
      auto near = [&](const torch::Tensor& ours, double theirs) {
        EXPECT_NEAR(ours.item<double>(), theirs, tol * std::max(1.0, std::abs(theirs)));
      };
      near(losses::nt_xent(a, b, 0.5), e["nt_xent_t0.5"]);
      near(losses::nt_xent(a, b, 0.1), e["nt_xent_t0.1"]);
      near(losses::neg_cosine(a, b), e["neg_cosine"]);
      // lightly's BYOL uses its negative cosine; the published BYOL loss is
      // 2 - 2cos (deepmind byol utils/helpers.py), so ours is 2 + 2 x theirs.
      near(losses::byol(a, b), 2.0 + 2.0 * e["neg_cosine"].get<double>());
      near(losses::barlow_twins(a, b, 0.005), e["barlow_twins_l0.005"]);
      near(losses::barlow_twins(a, b, 0.0051), e["barlow_twins_l0.0051"]);
      near(losses::vicreg(a, b, 25, 25, 1), e["vicreg_25_25_1"]);
      // MoCo-v3 scales the InfoNCE cross-entropy by 2t (facebookresearch/moco-v3
      // moco/builder.py contrastive_loss); lightly's is the bare cross-entropy.
      near(losses::mocov3(a, b, 0.2) / 0.4, e["moco_infonce_t0.2"]);
      near(losses::mocov3(a, b, 1.0) / 2.0, e["moco_infonce_t1.0"]);
    }
  }
}

// The losses issue 15 added, against lightly on the same inputs: MoCo-v2's
// queue as lightly's memory bank, DINO with lightly's centre set to ours,
// SwAV with lightly's own Sinkhorn codes (its normalisation order differs
// from the published one by a constant that the column step cancels), and
// W-MSE with one whitening block of 64 rows (lightly needs w_size >= 2 x dim).
TEST(Heads, QueueDinoSwavAndWmseAgreeWithLightly) {
  std::ifstream in(std::string(WB_TEST_DATA) + "/golden/golden_lightly.json");
  ASSERT_TRUE(in.good());
  const auto e = nlohmann::json::parse(in)["heads"]["expect"];
  const auto& c = test::golden_case("heads");
  for (auto dtype : {torch::kDouble, torch::kFloat}) {
    const double tol = dtype == torch::kDouble ? 1e-9 : 2e-4;
    auto near = [&](const torch::Tensor& ours, const char* key) {
      const double theirs = e[key].get<double>();
      EXPECT_NEAR(ours.item<double>(), theirs, tol * std::max(1.0, std::abs(theirs))) << key;
    };
    const auto a = test::matrix(c["za"], dtype), b = test::matrix(c["zb"], dtype);
    const auto tc = test::matrix(c["zc"], dtype), td = test::matrix(c["zd"], dtype);
    const auto queue = test::matrix(c["queue"], dtype), center = test::matrix(c["center"], dtype);
    near(losses::moco_queue(a, b, queue, 0.2), "moco_queue_t0.2");
    near(losses::moco_queue(a, b, queue, 1.0), "moco_queue_t1.0");
    near(losses::dino(a, b, tc, td, center, 0.1, 0.04), "dino_ts0.1_tt0.04");
    near(losses::dino(a, b, tc, td, center, 0.5, 0.2), "dino_ts0.5_tt0.2");
    near(losses::swav(a, b, losses::sinkhorn(a, 0.05, 3), losses::sinkhorn(b, 0.05, 3), 0.1), "swav_eps0.05_t0.1");
    near(losses::swav(a, b, losses::sinkhorn(a, 0.5, 3), losses::sinkhorn(b, 0.5, 3), 1.0), "swav_eps0.5_t1.0");
    auto gen = at::detail::createCPUGenerator(1);
    near(losses::w_mse(test::matrix(c["wa"], dtype), test::matrix(c["wb"], dtype), 64, 1, gen), "w_mse_n64_one_block");
  }
}
