// Every registered method trains on a small Gaussian problem; the schedule
// properties of docs/science.md §2 (stop-gradients, shared encoder, EMA) hold.
#include <gtest/gtest.h>

#include "data/gaussian_mixture.hpp"
#include "methods/method.hpp"
#include "training/task.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl {
namespace {

struct Collect : TrainObserver {
  RunStart start;
  std::vector<EpochRecord> epochs;
  RunOutcome outcome;
  bool finished = false;
  void on_start(const RunStart& s) override { start = s; }
  void on_epoch(const EpochRecord& r) override { epochs.push_back(r); }
  void on_finish(const RunOutcome& o) override {
    outcome = o;
    finished = true;
  }
};

RunConfig small(const std::string& method, int epochs = 3) {
  ConfigBuilder b(method);
  b.set("epochs", std::to_string(epochs));
  b.set("points_per_cluster", "40");
  b.set("batch_size", "50");
  if (method == "w-mse") b.set("w_size", "25");  // two whitening sub-batches per batch of 50
  return b.build();
}

std::vector<torch::Tensor> snapshot(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

bool unchanged(torch::nn::Module& m, const std::vector<torch::Tensor>& before) {
  const auto now = m.parameters();
  for (std::size_t i = 0; i < now.size(); ++i)
    if (!torch::equal(now[i], before[i])) return false;
  return true;
}

class EveryMethod : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryMethod, TrainsRecordsAndReportsFinalSeparation) {
  Collect c;
  const RunOutcome out = train(small(GetParam()), c);
  ASSERT_EQ(out.status, RunStatus::Finished) << out.message;
  ASSERT_TRUE(c.finished);
  ASSERT_EQ(c.epochs.size(), 3u);
  const auto& info = find_method(GetParam());
  EXPECT_EQ(c.start.encoders, info.encoders);
  for (const auto& e : c.epochs) {
    EXPECT_TRUE(std::isfinite(e.loss));
    EXPECT_EQ(e.centres.size(), info.encoders.size());
    for (const auto& ec : e.centres) {
      ASSERT_EQ(ec.centres.size(), 5u);
      for (const auto& v : ec.centres) EXPECT_NEAR(v.x * v.x + v.y * v.y + v.z * v.z, 1.0, 1e-9);
    }
    EXPECT_GE(e.effective_rank, 1.0 - 1e-6);
    EXPECT_LE(e.effective_rank, 3.0 + 1e-6);
    EXPECT_EQ(e.loss_e.has_value(), info.base == "sdmi");
  }
  // SimSiam has no persistent target: no MI value in its first epoch.
  const bool first_null = info.base == "simsiam";
  EXPECT_EQ(c.epochs[0].mi.cos_dv.has_value(), !first_null);
  EXPECT_EQ(c.epochs[0].mi.jsd.has_value(), !first_null);
  EXPECT_TRUE(c.epochs[1].mi.cos_dv.has_value());
  EXPECT_LE(*c.epochs[2].mi.infonce, std::log(2500.0) + 1e-9);
  ASSERT_EQ(out.finals.size(), info.encoders.size());
  for (const auto& f : out.finals) {
    EXPECT_GE(f.separation.min, 0.0);
    EXPECT_LE(f.separation.max, 180.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryMethod, ::testing::ValuesIn(method_names()),
                         [](const auto& param_info) {
                           std::string s = param_info.param;
                           for (auto& ch : s) if (ch == '-') ch = '_';
                           return s;
                         });

TEST(Determinism, SameSeedSameNumbersOtherSeedOtherNumbers) {
  auto run = [](int seed) {
    ConfigBuilder b("sdmi");
    b.set("epochs", "2");
    b.set("points_per_cluster", "40");
    b.set("batch_size", "50");
    b.set("seed", std::to_string(seed));
    Collect c;
    train(b.build(), c);
    return c.epochs;
  };
  const auto a = run(7), b = run(7), c = run(8);
  ASSERT_EQ(a.size(), 2u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].loss, b[i].loss);
    EXPECT_EQ(*a[i].mi.cos_dv, *b[i].mi.cos_dv);
    EXPECT_EQ(a[i].centres[1].centres[3].z, b[i].centres[1].centres[3].z);
  }
  EXPECT_NE(a[1].loss, c[1].loss);
}

// Builds a method directly, with its own generator and a tiny data set.
struct Fixture {
  RunConfig cfg;
  at::Generator gen = at::detail::createCPUGenerator(3);
  std::unique_ptr<Task> task;
  std::unique_ptr<Method> method;
  GaussianMixture data;
  explicit Fixture(const std::string& name) : cfg(small(name)) {
    data = make_gaussian_mixture(cfg, gen);  // the same draws the task makes, for the tests' own inputs
    task = make_gaussian_task(cfg, torch::kCPU, gen);
    MethodEnv env{cfg, torch::kCPU, gen, task->encoder_factory(), task->embed_dim(), task->steps_per_epoch()};
    method = make_method(env);
    method->set_training(true);
  }
  std::unique_ptr<EpochData> epoch() { return task->epoch_data(1, nullptr); }
};

TEST(StopGradient, SdmiEPhaseLeavesGUntouchedAndMPhaseLeavesFUntouched) {
  Fixture fx("sdmi");
  auto* phased = dynamic_cast<PhasedMethod*>(fx.method.get());
  ASSERT_NE(phased, nullptr);
  auto& f = fx.method->module("f");
  auto& g = fx.method->module("g");
  auto f0 = snapshot(f), g0 = snapshot(g);
  auto data = fx.epoch();
  phased->train_phase(*data, PhasedMethod::Phase::E);
  EXPECT_TRUE(unchanged(g, g0)) << "E-phase changed g";
  for (const auto& p : g.parameters()) EXPECT_FALSE(p.grad().defined()) << "E-phase gave g a gradient";
  EXPECT_FALSE(unchanged(f, f0)) << "E-phase did not update f";
  f0 = snapshot(f);
  g0 = snapshot(g);
  phased->train_phase(*data, PhasedMethod::Phase::M);
  EXPECT_TRUE(unchanged(f, f0)) << "M-phase changed f";
  EXPECT_FALSE(unchanged(g, g0)) << "M-phase did not update g";
}

TEST(StopGradient, SdmiPredictorsFollowTheirEncodersPhase) {
  Fixture fx("sdmi-nodv-pred");
  auto* phased = dynamic_cast<PhasedMethod*>(fx.method.get());
  auto& qf = fx.method->module("predictor_f");
  auto& qg = fx.method->module("predictor_g");
  const auto qf0 = snapshot(qf), qg0 = snapshot(qg);
  auto data = fx.epoch();
  phased->train_phase(*data, PhasedMethod::Phase::E);
  EXPECT_FALSE(unchanged(qf, qf0));
  EXPECT_TRUE(unchanged(qg, qg0));
}

TEST(SharedEncoder, JmiUsesOneEncoderForBothViews) {
  Fixture fx("jmi");
  EXPECT_EQ(fx.method->encoder_names(), std::vector<std::string>{"f"});
  EXPECT_THROW(fx.method->module("g"), std::out_of_range);
  fx.method->set_training(false);
  torch::NoGradGuard no_grad;
  const auto [a, b] = fx.method->mi_branches(fx.data.val_v1, fx.data.val_v1);
  EXPECT_TRUE(torch::equal(a, b)) << "the two branches are different networks";
  // Both views' gradients reach f: a step changes every layer of f.
  fx.method->set_training(true);
  auto& f = fx.method->module("f");
  const auto f0 = snapshot(f);
  auto data = fx.epoch();
  {
    torch::GradMode::set_enabled(true);
    fx.method->train_epoch(*data);
  }
  const auto now = f.parameters();
  for (std::size_t i = 0; i < now.size(); ++i) EXPECT_FALSE(torch::equal(now[i], f0[i])) << i;
}

TEST(MomentumTarget, ByolTargetIsTheEmaOfTheOnlineParameters) {
  Fixture fx("byol");
  auto& f = fx.method->module("f");
  auto& target = fx.method->module("target");
  // The target starts as a copy.
  const auto fp = f.parameters(), tp = target.parameters();
  for (std::size_t i = 0; i < fp.size(); ++i) EXPECT_TRUE(torch::equal(fp[i], tp[i]));
  const auto t0 = snapshot(target);
  ConfigBuilder b("byol");
  b.set("points_per_cluster", "40");
  b.set("batch_size", "200");  // one step per epoch
  b.set("epochs", "3");
  RunConfig cfg = b.build();
  auto gen = at::detail::createCPUGenerator(9);
  auto task = make_gaussian_task(cfg, torch::kCPU, gen);
  MethodEnv env{cfg, torch::kCPU, gen, task->encoder_factory(), task->embed_dim(), task->steps_per_epoch()};
  auto m = make_method(env);
  auto* mm = dynamic_cast<MomentumMethod*>(m.get());
  ASSERT_NE(mm, nullptr);
  m->set_training(true);
  const auto target_before = snapshot(m->module("target"));
  auto ed = task->epoch_data(1, nullptr);
  m->train_epoch(*ed);  // one step, k = 0
  const double tau = mm->momentum_at(0);
  EXPECT_NEAR(tau, 0.996, 1e-12);  // cosine schedule starts at the base
  EXPECT_NEAR(mm->momentum_at(3), 1.0, 1e-12);  // ... and ends at 1 (K = 3 steps)
  const auto online = m->module("f").parameters();
  const auto tnow = m->module("target").parameters();
  for (std::size_t i = 0; i < online.size(); ++i) {
    const auto expect = target_before[i] * tau + online[i].detach() * (1 - tau);
    EXPECT_TRUE(torch::allclose(tnow[i], expect, 1e-6, 1e-7)) << i;
  }
  (void)t0;
}

torch::Tensor saved(Method& m, const std::string& key) {
  torch::serialize::OutputArchive out;
  m.save(out);
  std::ostringstream os;
  out.save_to(os);
  std::istringstream is(os.str());
  torch::serialize::InputArchive in;
  in.load_from(is);
  torch::Tensor t;
  in.read(key, t);
  return t;
}

// MoCo-v2: the key encoder is the EMA of the query encoder (fixed momentum),
// the MI branches are query(view 1) vs key(view 2), and each step's keys
// replace the oldest entries of the queue.
TEST(MomentumTarget, MocoV2KeyEncoderQueueAndBranches) {
  Fixture fx("mocov2");
  EXPECT_EQ(fx.cfg.queue_size, 1000);
  EXPECT_FALSE(fx.cfg.ema_cosine);
  const auto q0 = saved(*fx.method, "queue");
  ASSERT_EQ(q0.sizes(), (std::vector<std::int64_t>{1000, 3}));
  EXPECT_TRUE(torch::allclose(q0.norm(2, 1), torch::ones({1000}), 1e-5, 1e-5));
  const auto key0 = snapshot(fx.method->module("target"));
  auto data = fx.epoch();
  fx.method->train_epoch(*data);  // 200 points / 50 = 4 steps
  const auto q1 = saved(*fx.method, "queue");
  EXPECT_EQ(saved(*fx.method, "queue_ptr").item<std::int64_t>(), 200);
  EXPECT_FALSE(torch::equal(q1.narrow(0, 0, 200), q0.narrow(0, 0, 200)));
  EXPECT_TRUE(torch::equal(q1.narrow(0, 200, 800), q0.narrow(0, 200, 800)));
  EXPECT_TRUE(torch::allclose(q1.norm(2, 1), torch::ones({1000}), 1e-5, 1e-5));
  EXPECT_FALSE(unchanged(fx.method->module("target"), key0)) << "the key encoder did not follow";
  fx.method->set_training(false);
  torch::NoGradGuard no_grad;
  const auto [a, b] = fx.method->mi_branches(fx.data.val_v1, fx.data.val_v2);
  auto& f = dynamic_cast<EncoderNet&>(fx.method->module("f"));
  auto& key = dynamic_cast<EncoderNet&>(fx.method->module("target"));
  EXPECT_TRUE(torch::equal(a, f.forward(fx.data.val_v1)));
  EXPECT_TRUE(torch::equal(b, key.forward(fx.data.val_v2)));
  EXPECT_FALSE(torch::equal(b, f.forward(fx.data.val_v2)));
}

// DINO: the prototype layer is frozen in the first epoch and trains after;
// teacher and its prototypes follow the student by EMA; the centre moves;
// the MI branches are student(view 1) vs teacher(view 2).
TEST(MomentumTarget, DinoTeacherCentreAndFrozenPrototypes) {
  Fixture fx("dino");
  EXPECT_EQ(fx.cfg.prototypes, 64);
  auto& student = fx.method->module("f");
  auto& protos = fx.method->module("prototypes");
  const auto s0 = snapshot(student), p0 = snapshot(protos), t0 = snapshot(fx.method->module("target"));
  const auto tp0 = snapshot(fx.method->module("target_prototypes"));
  EXPECT_TRUE(torch::equal(p0[0], tp0[0]));
  const auto c0 = saved(*fx.method, "center");
  EXPECT_TRUE(torch::equal(c0, torch::zeros({1, 64})));
  auto data = fx.epoch();
  fx.method->train_epoch(*data);
  EXPECT_FALSE(unchanged(student, s0));
  EXPECT_TRUE(unchanged(protos, p0)) << "prototypes moved in the frozen first epoch";
  EXPECT_FALSE(unchanged(fx.method->module("target"), t0));
  EXPECT_FALSE(torch::equal(saved(*fx.method, "center"), c0));
  fx.method->train_epoch(*data);
  EXPECT_FALSE(unchanged(protos, p0)) << "prototypes did not train after the first epoch";
  EXPECT_FALSE(unchanged(fx.method->module("target_prototypes"), tp0));
  fx.method->set_training(false);
  torch::NoGradGuard no_grad;
  const auto [a, b] = fx.method->mi_branches(fx.data.val_v1, fx.data.val_v2);
  EXPECT_TRUE(torch::equal(a, dynamic_cast<EncoderNet&>(student).forward(fx.data.val_v1)));
  EXPECT_TRUE(torch::equal(b, dynamic_cast<EncoderNet&>(fx.method->module("target")).forward(fx.data.val_v2)));
}

// SwAV: prototypes are renormalised before every step, frozen in the first
// epoch; one encoder gives both MI branches.
TEST(SharedEncoder, SwavPrototypesNormalisedAndFrozenFirst) {
  Fixture fx("swav");
  auto& protos = fx.method->module("prototypes");
  const auto p0 = snapshot(protos);
  auto data = fx.epoch();
  fx.method->train_epoch(*data);
  // Only the renormalisation touched them in the first epoch.
  const auto w1 = protos.parameters()[0].detach().clone();
  EXPECT_TRUE(torch::allclose(w1, p0[0] / p0[0].norm(2, 1, true), 1e-6, 1e-6));
  fx.method->train_epoch(*data);
  const auto w2 = protos.parameters()[0].detach().clone();
  EXPECT_FALSE(torch::allclose(w2, w1, 1e-4, 1e-5)) << (w2 - w1).abs().max().item<double>();
  EXPECT_THROW(fx.method->module("target"), std::out_of_range);
  fx.method->set_training(false);
  torch::NoGradGuard no_grad;
  const auto [a, b] = fx.method->mi_branches(fx.data.val_v1, fx.data.val_v1);
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(SharedEncoder, SwavQueueJoinsSinkhornOnceFull) {
  RunConfig cfg = small("swav");
  cfg.queue_size = 100;  // two batches of 50
  auto gen = at::detail::createCPUGenerator(3);
  auto task = make_gaussian_task(cfg, torch::kCPU, gen);
  MethodEnv env{cfg, torch::kCPU, gen, task->encoder_factory(), task->embed_dim(), task->steps_per_epoch()};
  auto m = make_method(env);
  m->set_training(true);
  auto data = task->epoch_data(1, nullptr);
  const auto out = m->train_epoch(*data);
  EXPECT_TRUE(std::isfinite(out.loss));
  EXPECT_EQ(saved(*m, "queue_filled").item<std::int64_t>(), 200);
  const auto q = saved(*m, "queue");
  ASSERT_EQ(q.sizes(), (std::vector<std::int64_t>{2, 100, 3}));
  EXPECT_TRUE(torch::allclose(q.norm(2, 2), torch::ones({2, 100}), 1e-5, 1e-5)) << "queue holds embeddings";
}

TEST(RunEnding, DivergenceStopsTheRunAndKeepsTheEpochsBefore) {
  ConfigBuilder b("jmi");
  b.set("epochs", "50");
  b.set("points_per_cluster", "40");
  b.set("batch_size", "50");
  b.set("lr", "1e6");  // the largest accepted; diverges within two epochs
  Collect c;
  const auto out = train(b.build(), c);
  EXPECT_EQ(out.status, RunStatus::Diverged);
  EXPECT_NE(out.message.find("non-finite"), std::string::npos);
  EXPECT_LT(c.epochs.size(), 50u);
  EXPECT_EQ(out.epochs_done, static_cast<int>(c.epochs.size()));
  for (const auto& e : c.epochs) EXPECT_TRUE(std::isfinite(e.loss));
}

TEST(RunEnding, StopFlagInterruptsAfterTheCurrentEpoch) {
  struct StopAfterTwo : Collect {
    StopFlag* flag = nullptr;
    void on_epoch(const EpochRecord& r) override {
      Collect::on_epoch(r);
      if (r.epoch == 2) flag->requested = true;
    }
  } c;
  StopFlag flag;
  c.flag = &flag;
  const auto out = train(small("simclr", 10), c, &flag);
  EXPECT_EQ(out.status, RunStatus::Interrupted);
  EXPECT_EQ(c.epochs.size(), 2u);
  EXPECT_EQ(out.finals.size(), 1u);
}

TEST(RunEnding, InvalidConfigThrowsBeforeAnythingStarts) {
  RunConfig cfg = small("jmi");
  cfg.lr = -1;
  Collect c;
  EXPECT_THROW(train(cfg, c), ConfigError);
  EXPECT_TRUE(c.start.device.empty());
  EXPECT_FALSE(c.finished);
}

TEST(RunEnding, CudaRequestedWithoutCudaIsAConfigError) {
  if (cuda_available()) GTEST_SKIP() << "this machine has CUDA";
  RunConfig cfg = small("jmi");
  cfg.device = "cuda";
  Collect c;
  EXPECT_THROW(train(cfg, c), ConfigError);
}

TEST(Schedules, SdmiPerBatchAlternationAlsoTrainsBothEncoders) {
  ConfigBuilder b("sdmi");
  b.set("epochs", "2");
  b.set("points_per_cluster", "40");
  b.set("batch_size", "50");
  b.set("alternation", "batch");
  Collect c;
  EXPECT_EQ(train(b.build(), c).status, RunStatus::Finished);
  EXPECT_TRUE(c.epochs[1].loss_e.has_value());
  EXPECT_TRUE(c.epochs[1].loss_m.has_value());
}

}  // namespace
}  // namespace ssrl
