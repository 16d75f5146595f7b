#include "ssrl/bench.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <filesystem>
#include <iostream>

#include "data/augment.hpp"
#include "data/image_sets.hpp"
#include "objectives/losses.hpp"
#include "methods/method.hpp"
#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/trainer.hpp"
#include "bench/memory_probe.hpp"
#include "objectives/mi.hpp"

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

namespace ssrl {
namespace {

// Batches of two augmented views from an in-memory image set, kept on the
// device as a run keeps it (not on the CPU, where runs read it in place).
class BenchData : public EpochData {
 public:
  BenchData(std::shared_ptr<ImageSet> set, int batch, AugmentOptions aug, at::Generator& gen, torch::Device dev)
      : set_(std::move(set)), batch_(batch), aug_(std::move(aug)), gen_(gen), dev_(dev) {
    if (!dev_.is_cpu()) resident_ = set_->images(torch::arange(set_->size(), torch::kLong)).to(dev_);
  }
  int begin_pass() override { return passes_; }
  ViewPair batch(int) override {
    const auto idx = torch::randint(0, set_->size(), {batch_}, gen_, torch::kLong);
    const auto raw = resident_.defined() ? resident_.index_select(0, idx.to(dev_, /*non_blocking=*/true)) : set_->images(idx);
    return {augment(raw, aug_, gen_), augment(raw, aug_, gen_)};
  }
  int passes_ = 1;

 private:
  std::shared_ptr<ImageSet> set_;
  torch::Tensor resident_;
  int batch_;
  AugmentOptions aug_;
  at::Generator& gen_;
  torch::Device dev_;
};

// The same two views every step: the step alone, without the data pipeline.
class FixedViews : public EpochData {
 public:
  FixedViews(ViewPair views, int passes) : views_(std::move(views)), passes_(passes) {}
  int begin_pass() override { return passes_; }
  ViewPair batch(int) override { return views_; }

 private:
  ViewPair views_;
  int passes_;
};

}  // namespace

std::vector<TrainBenchRow> run_training_benchmarks(const TrainBenchOptions& opt,
                                                   const std::function<void(const TrainBenchRow&)>& progress) {
  std::vector<TrainBenchRow> rows;
  auto emit = [&](TrainBenchRow r) {
    if (progress) progress(r);
    rows.push_back(std::move(r));
  };
  const torch::Device device(resolve_device(opt.device));
  set_torch_threads(opt.threads);
  apply_backend_settings(ConfigBuilder("simclr", "cifar10").build_unchecked());
  auto gen = at::detail::createCPUGenerator(11);
  struct Input {
    std::string name;
    std::shared_ptr<ImageSet> set;
    std::vector<float> mean, std;
  };
  std::vector<Input> inputs;
  if (std::filesystem::is_directory(opt.fashion_mnist_dir)) {
    const DataSplit fm = load_dataset(find_dataset("fashion-mnist"), opt.fashion_mnist_dir, 0, 1);
    inputs.push_back({"fashion-mnist", fm.train, fm.mean, fm.std});
  }
  inputs.push_back({"synthetic 32x32x3",
                    std::make_shared<TensorImageSet>(torch::randint(0, 256, {4096, 3, 32, 32}, gen, torch::kUInt8),
                                                     torch::randint(0, 10, {4096}, gen, torch::kLong), 10),
                    {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f}});
  std::vector<std::string> methods = opt.methods;
  if (methods.empty())
    for (const auto& m : all_methods())
      if (!m.is_variant()) methods.push_back(m.name);
  for (const auto& in : inputs) {
    for (const auto& enc : opt.encoders) {
      const int batch = enc == "small-cnn" ? opt.batch_small : opt.batch_resnet;
      AugmentOptions aug;
      aug.out_size = static_cast<int>(in.set->height());
      aug.mean = in.mean;
      aug.std = in.std;
      {  // the data pipeline alone
        BenchData data(in.set, batch, aug, gen, device);
        data.batch(0);
        const auto t0 = std::chrono::steady_clock::now();
        for (int s = 0; s < opt.steps; ++s) data.batch(s);
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        emit({in.name, enc, "(data pipeline)", batch, opt.steps, batch * opt.steps / sec, 0.0, 0.0});
      }
      for (const auto& m : methods) {
        ConfigBuilder b(m, in.name == "fashion-mnist" ? "fashion-mnist" : "cifar10");
        RunConfig cfg = b.build_unchecked();
        cfg.encoder = enc;
        cfg.batch_size = batch;
        if (const auto check = find_method(m).check) {
          try {
            check(cfg);  // W-MSE cannot whiten a batch smaller than w_size
          } catch (const ConfigError& e) {
            std::cerr << "bench train: " << m << " left out at batch " << batch << ": " << e.what() << "\n";
            continue;
          }
        }
        // The network a run of these settings trains (the method's published head).
        const ImageEncoderOptions eo = image_encoder_options(cfg, in.set->channels());
        MethodEnv env{cfg, device, gen, [eo] { return make_image_encoder(eo); }, cfg.proj_dim, opt.steps + 1};
        auto method = make_method(env);
        method->set_training(true);
        BenchData warm(in.set, batch, aug, gen, device);
        {
          const PrecisionScope precision(precision_for(cfg, device));
          method->train_epoch(warm);  // one step (two for SDMI's phases)
        }
        BenchData data(in.set, batch, aug, gen, device);
        data.passes_ = opt.steps;
        // What a run does: its precision (autocast on CUDA with amp), per step.
        const PrecisionScope precision(precision_for(cfg, device));
        const auto t0 = std::chrono::steady_clock::now();
        method->train_epoch(data);
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        // The same steps on one pair of views made beforehand.
        FixedViews fixed(data.batch(0), opt.steps);
        const auto t1 = std::chrono::steady_clock::now();
        const std::clock_t c1 = std::clock();
        method->train_epoch(fixed);
        const double cpu_fixed = static_cast<double>(std::clock() - c1) / CLOCKS_PER_SEC;
        const double sec_fixed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        // SDMI trains f and g on every batch in its two phases: count the data, not the phases.
        emit({in.name, enc, m, batch, opt.steps, batch * opt.steps / sec, batch * opt.steps / sec_fixed,
              batch * opt.steps / cpu_fixed});
      }
    }
  }
  return rows;
}

}  // namespace ssrl
