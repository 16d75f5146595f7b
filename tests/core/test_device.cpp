// Device consistency on a stand-in accelerator (support/stand_in_device.hpp):
// augmentation, every method's training step, the losses, MI, kNN and the
// probe with all tensors off the CPU, so a tensor created on the wrong device
// fails here and not on a user's GPU; and the host-device transfers a step
// makes, counted.
#include <gtest/gtest.h>

#include "core/image_files.hpp"
#include "data/augment.hpp"
#include "evaluation/probe.hpp"
#include "methods/method.hpp"
#include "objectives/losses.hpp"
#include "objectives/mi.hpp"
#include "ssrl/config.hpp"
#include "ssrl/methods.hpp"
#include "support/stand_in_device.hpp"
#include "support/temp_dir.hpp"
#include "training/checkpoint.hpp"
#include "training/task.hpp"

namespace ssrl {
namespace {

using test::kStandIn;
using test::kStandInLoadsCheckpoints;
using test::transfer_counts;

torch::Tensor images(std::int64_t n, std::int64_t c, std::int64_t size, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randint(0, 256, {n, c, size, size}, gen, torch::kUInt8);
}

void expect_same(const torch::Tensor& on_device, const torch::Tensor& on_cpu, double tol = 1e-5) {
  ASSERT_EQ(on_device.device(), kStandIn);
  EXPECT_TRUE(torch::allclose(on_device.cpu(), on_cpu, tol, tol)) << (on_device.cpu() - on_cpu).abs().max();
}

TEST(StandInDevice, RejectsWhatAnAcceleratorRejects) {
  const auto x = torch::ones({4, 3}).to(kStandIn);
  EXPECT_THROW(x + torch::ones({4, 3}), c10::Error);
  EXPECT_THROW(x.index_select(0, torch::arange(2)), c10::Error);
  auto gen = at::detail::createCPUGenerator(1);
  EXPECT_THROW(torch::rand({3}, gen, torch::TensorOptions().device(kStandIn)), c10::Error);
  EXPECT_TRUE(torch::equal((x * torch::tensor(2.0)).cpu(), torch::full({4, 3}, 2.0)));  // CPU scalars are fine
}

class AugmentOnDevice : public ::testing::TestWithParam<int> {};

TEST_P(AugmentOnDevice, RunsThereAndDrawsWhatTheCpuDraws) {
  const int c = GetParam();
  AugmentOptions o;
  o.out_size = 12;
  o.jitter_p = 0.8;
  o.grayscale_p = 0.5;
  o.solarize_p = 0.5;
  o.mean.assign(static_cast<std::size_t>(c), 0.5f);
  o.std.assign(static_cast<std::size_t>(c), 0.25f);
  const auto x = images(16, c, 16, 3);
  auto g1 = at::detail::createCPUGenerator(7), g2 = at::detail::createCPUGenerator(7);
  const auto on_cpu = augment(x, o, g1);
  const auto on_device = augment(x.to(kStandIn), o, g2);
  expect_same(on_device, on_cpu);
  expect_same(normalise(x.to(kStandIn), o.mean, o.std), normalise(x, o.mean, o.std));
}

INSTANTIATE_TEST_SUITE_P(Channels, AugmentOnDevice, ::testing::Values(1, 3));

TEST(ObjectivesOnDevice, LossesMiKnnAndProbeAgreeWithTheCpu) {
  auto gen = at::detail::createCPUGenerator(11);
  const auto a = torch::randn({24, 8}, gen, torch::kFloat), b = torch::randn({24, 8}, gen, torch::kFloat);
  const auto da = a.to(kStandIn), db = b.to(kStandIn);
  expect_same(losses::cos_dv(da, db, 0.2, true), losses::cos_dv(a, b, 0.2, true));
  expect_same(losses::cos_dv(da, db, 0.2, false), losses::cos_dv(a, b, 0.2, false));
  expect_same(losses::neg_cosine(da, db), losses::neg_cosine(a, b));
  expect_same(losses::byol(da, db), losses::byol(a, b));
  expect_same(losses::mocov3(da, db, 0.2), losses::mocov3(a, b, 0.2));
  expect_same(losses::nt_xent(da, db, 0.5), losses::nt_xent(a, b, 0.5));
  expect_same(losses::barlow_twins(da, db, 5e-3), losses::barlow_twins(a, b, 5e-3), 1e-4);
  expect_same(losses::vicreg(da, db, 25, 25, 1), losses::vicreg(a, b, 25, 25, 1), 1e-4);
  expect_same(losses::taylor_dv(da, db, 0.2, 0.5), losses::taylor_dv(a, b, 0.2, 0.5));

  const MiValues m_cpu = mi_estimates(a, b, 0.2, 8), m_dev = mi_estimates(da, db, 0.2, 8);
  EXPECT_NEAR(m_dev.cos_dv, m_cpu.cos_dv, 1e-5);
  EXPECT_NEAR(m_dev.infonce, m_cpu.infonce, 1e-5);
  EXPECT_NEAR(m_dev.jsd, m_cpu.jsd, 1e-5);

  const auto y = torch::arange(24, torch::kLong).remainder(3);
  EXPECT_DOUBLE_EQ(knn_top1(da, y.to(kStandIn), db, y.to(kStandIn), 3, 5), knn_top1(a, y, b, y, 3, 5));
  ProbeOptions po;
  po.epochs = 3;
  po.batch_size = 8;
  auto p1 = at::detail::createCPUGenerator(2), p2 = at::detail::createCPUGenerator(2);
  EXPECT_NEAR(linear_probe(da, y.to(kStandIn), db, y.to(kStandIn), 3, po, p2), linear_probe(a, y, b, y, 3, po, p1), 1e-9);
}

// Optimiser steps in one epoch: SDMI steps f and g on every batch.
int optimiser_steps(const RunConfig& cfg, int batches) { return find_method(cfg.method).base == "sdmi" ? 2 * batches : batches; }

class MethodOnDevice : public ::testing::TestWithParam<std::string> {};

// The Gaussian experiment: every method trains and is evaluated on the
// device, with at most one host-device synchronisation per optimiser step
// once running (the first epoch may set things up).
TEST_P(MethodOnDevice, TrainsOnTheGaussianExperimentWithOneSyncPerStep) {
  ConfigBuilder builder(GetParam());
  builder.set("points_per_cluster", "40");
  builder.set("batch_size", "50");
  if (GetParam() == "w-mse") builder.set("w_size", "25");  // whitening blocks must fit in the batch
  builder.set("epochs", "2");
  const RunConfig cfg = builder.build();
  auto gen = at::detail::createCPUGenerator(5);
  auto task = make_gaussian_task(cfg, kStandIn, gen);
  MethodEnv env{cfg, kStandIn, gen, task->encoder_factory(), task->embed_dim(), task->steps_per_epoch()};
  auto method = make_method(env);
  method->set_training(true);
  method->train_epoch(*task->epoch_data(1, nullptr));
  const auto before = transfer_counts();
  const EpochLosses l = method->train_epoch(*task->epoch_data(2, nullptr));
  const auto after = transfer_counts();
  EXPECT_TRUE(std::isfinite(l.loss));
  const int steps = optimiser_steps(cfg, task->steps_per_epoch());
  EXPECT_LE(after.syncs() - before.syncs(), steps) << "host-device synchronisations in " << steps << " steps";
  method->set_training(false);
  EpochRecord r;
  task->evaluate(*method, r);
  EXPECT_TRUE(r.mi.cos_dv.has_value() || find_method(cfg.method).base == "simsiam");
}

INSTANTIATE_TEST_SUITE_P(Registry, MethodOnDevice, ::testing::ValuesIn(method_names()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

// Checkpoints load on any device (map_location): one written by a run on
// the accelerator resumes on the CPU, weights and optimiser state included,
// and the other way round.
TEST(CheckpointOnDevice, LoadsOnTheDeviceOfTheRunThatResumes) {
  wb_test::TempDir dir;
  for (const std::string method_name : {"simclr", "byol"}) {
    SCOPED_TRACE(method_name);
    for (const bool from_device : {true, false}) {
      if (!from_device && !kStandInLoadsCheckpoints) continue;  // skipped below, after the other direction ran
      SCOPED_TRACE(from_device ? "written on the device, resumed on the CPU" : "written on the CPU, resumed on the device");
      const torch::Device saved_on = from_device ? kStandIn : torch::Device(torch::kCPU);
      const torch::Device resumed_on = from_device ? torch::Device(torch::kCPU) : kStandIn;
      ConfigBuilder builder(method_name);
      builder.set("points_per_cluster", "40");
      builder.set("batch_size", "50");
      const RunConfig cfg = builder.build();
      auto train_on = [&](torch::Device device, at::Generator& gen) {
        auto task = make_gaussian_task(cfg, device, gen);
        MethodEnv env{cfg, device, gen, task->encoder_factory(), task->embed_dim(), task->steps_per_epoch()};
        return std::make_pair(std::move(task), make_method(env));
      };
      auto gen_a = at::detail::createCPUGenerator(5);
      auto [task_a, first] = train_on(saved_on, gen_a);
      first->set_training(true);
      first->train_epoch(*task_a->epoch_data(1, nullptr));
      const std::string path = write_snapshot(take_snapshot(*first, gen_a, 1, cfg),
                                              (dir.path() / (method_name + (from_device ? "-dev" : "-cpu"))).string());
      auto gen_b = at::detail::createCPUGenerator(99);
      auto [task_b, second] = train_on(resumed_on, gen_b);
      EXPECT_EQ(load_snapshot(path, *second, gen_b, resumed_on), 1);
      const auto want = first->module("f").parameters(), got = second->module("f").parameters();
      ASSERT_EQ(want.size(), got.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].device(), resumed_on) << "parameter " << i;
        EXPECT_TRUE(torch::equal(got[i].cpu(), want[i].cpu())) << "parameter " << i;
      }
      second->set_training(true);
      EXPECT_TRUE(std::isfinite(second->train_epoch(*task_b->epoch_data(2, nullptr)).loss));
    }
  }
  if (!kStandInLoadsCheckpoints)
    GTEST_SKIP() << "resuming on the device not checked: LibTorch " << TORCH_VERSION
                 << " cannot map a checkpoint onto the stand-in device (device to CPU was checked)";
}

class ImageTaskOnDevice : public ::testing::TestWithParam<std::string> {};

// RGB images through the whole image path: the task's fixed views, training
// (BYOL's second view solarises), the kNN monitor and the linear probe.
TEST_P(ImageTaskOnDevice, TrainsEvaluatesAndProbesRgbImages) {
  wb_test::TempDir dir;
  test::write_cifar10(dir.path(), 16, 40);
  ConfigBuilder builder(GetParam(), "cifar10");
  builder.set("data_dir", dir.path().string());
  builder.set("encoder", "small-cnn");
  builder.set("batch_size", "16");
  builder.set("epochs", "2");
  builder.set("val_subset", "32");
  builder.set("knn_bank", "48");
  builder.set("probe_epochs", "1");
  builder.set("probe_subset", "48");
  builder.set("proj_hidden", "32");
  builder.set("proj_dim", "16");
  builder.set("loader_threads", "1");
  const RunConfig cfg = builder.build();
  auto gen = at::detail::createCPUGenerator(5);
  auto task = make_image_task(cfg, kStandIn, gen);
  MethodEnv env{cfg, kStandIn, gen, task->encoder_factory(), task->embed_dim(), task->steps_per_epoch()};
  auto method = make_method(env);
  method->set_training(true);
  method->train_epoch(*task->epoch_data(1, nullptr));
  const auto before = transfer_counts();
  method->train_epoch(*task->epoch_data(2, nullptr));
  const auto after = transfer_counts();
  const int steps = optimiser_steps(cfg, task->steps_per_epoch());
  EXPECT_LE(after.syncs() - before.syncs(), steps) << "host-device synchronisations in " << steps << " steps";
  // One upload of augmentation parameters per view and of each pass's order
  // (SDMI makes two passes, E and M); the images stay on the device.
  const int passes = steps / task->steps_per_epoch();
  EXPECT_LE(after.to_device - before.to_device, passes * (2 * task->steps_per_epoch() + 1)) << "host-to-device copies";
  method->set_training(false);
  EpochRecord r;
  task->evaluate(*method, r);
  EXPECT_TRUE(r.knn_top1_k20.has_value());
  RunOutcome out;
  task->finish(*method, {}, out);
  ASSERT_FALSE(out.probes.empty());
  EXPECT_GE(out.probes.front().top1, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Methods, ImageTaskOnDevice, ::testing::Values("byol", "simclr", "sdmi"));

}  // namespace
}  // namespace ssrl
