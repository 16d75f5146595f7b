#include "ssrl/trainer.hpp"

#include <ATen/Parallel.h>
#include <torch/version.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "data.hpp"
#include "method.hpp"
#include "metrics.hpp"
#include "mi.hpp"
#include "ssrl/errors.hpp"

namespace ssrl {
namespace {

using Clock = std::chrono::steady_clock;

double lr_at(const RunConfig& cfg, int epoch) {  // epoch is 1-based
  const int e = epoch - 1;
  if (e < cfg.warmup_epochs) return cfg.lr * static_cast<double>(e + 1) / (cfg.warmup_epochs + 1);
  if (cfg.lr_schedule == "constant") return cfg.lr;
  const double span = std::max(1, cfg.epochs - cfg.warmup_epochs);
  const double progress = static_cast<double>(e - cfg.warmup_epochs) / span;
  return cfg.lr * 0.5 * (1.0 + std::cos(M_PI * progress));
}

bool finite(const EpochLosses& l) {
  auto ok = [](double v) { return std::isfinite(v); };
  return ok(l.loss) && (!l.phase_e || ok(*l.phase_e)) && (!l.phase_m || ok(*l.phase_m));
}

// Observer failures (a full disk, a lost database) are not training
// failures: they pass through train() unchanged.
struct ObserverFailure {
  std::exception_ptr error;
};

template <class Fn>
void notify(Fn&& fn) {
  try {
    fn();
  } catch (...) {
    throw ObserverFailure{std::current_exception()};
  }
}

EpochRecord evaluate(Method& method, const GaussianMixture& data, const RunConfig& cfg, int epoch) {
  torch::NoGradGuard no_grad;
  method.set_training(false);
  EpochRecord r;
  r.epoch = epoch;
  const auto [za, zb] = method.mi_branches(data.val_v1, data.val_v2);
  if (zb.defined()) {
    const MiValues mi = mi_estimates(za, zb, cfg.mi_temperature, cfg.mi_block);
    r.mi.cos_dv = mi.cos_dv;
    r.mi.infonce = mi.infonce;
    r.mi.jsd = mi.jsd;
  }
  const auto names = method.encoder_names();
  const auto val_f = method.embed(names.front(), data.val_x);
  r.embedding_std = embedding_std(val_f);
  r.effective_rank = effective_rank(val_f);
  for (const auto& name : names) {
    const auto z = method.embed(name, data.train_x);
    r.centres.push_back({name, cluster_centres(z, data.train_y, data.clusters)});
  }
  method.set_training(true);
  return r;
}

}  // namespace

bool cuda_available() { return torch::cuda::is_available(); }

std::string resolve_device(const std::string& requested) {
  if (requested == "cpu") return "cpu";
  if (requested == "auto") return cuda_available() ? "cuda:0" : "cpu";
  if (!cuda_available())
    throw ConfigError("device", "CUDA was requested ('" + requested +
                                    "') but this build or machine has no CUDA device (accepted here: auto, cpu)");
  if (requested == "cuda") return "cuda:0";
  const int index = std::atoi(requested.c_str() + 5);
  if (index >= static_cast<int>(torch::cuda::device_count()))
    throw ConfigError("device", "no CUDA device " + std::to_string(index) + " (this machine has " +
                                    std::to_string(torch::cuda::device_count()) + ")");
  return requested;
}

void set_torch_threads(int threads) {
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

std::string torch_version() { return TORCH_VERSION; }

void prepare_process(int argc, char** argv) {
  // libgomp reads OMP_WAIT_POLICY when it is loaded, before main(). Spinning
  // idle OpenMP workers made small steps ~40x slower on 2 vCPUs and starve the
  // GUI thread, so the process re-executes itself once with a passive policy
  // unless the user chose one.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("SSRL_NO_REEXEC") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    setenv("SSRL_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    // If exec fails we carry on with whatever policy OpenMP picked.
  }
  (void)argc;
}

RunOutcome train(const RunConfig& cfg, TrainObserver& observer, const StopFlag* stop) {
  validate(cfg);
  const MethodInfo& info = find_method(cfg.method);
  const MethodSpec& spec = find_spec(info.base);
  const std::string device_name = resolve_device(cfg.device);
  set_torch_threads(cfg.threads);
  const torch::Device device(device_name);

  // All randomness of the run comes from this generator, in a fixed order.
  auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(cfg.seed));
  GaussianMixture data = make_gaussian_mixture(cfg, gen);
  data.train_x = data.train_x.to(device);
  data.val_x = data.val_x.to(device);
  data.val_v1 = data.val_v1.to(device);
  data.val_v2 = data.val_v2.to(device);

  const std::int64_t n = data.train_x.size(0);
  const int steps = cfg.batch_size <= 0 ? 1 : static_cast<int>(n / cfg.batch_size);
  int current_epoch = 0;
  MethodEnv env{cfg, device, gen, 2, 3, steps};
  env.phase = [&](const std::string& phase) { notify([&] { observer.on_phase(current_epoch, phase); }); };
  std::unique_ptr<Method> method = spec.make(env);
  method->set_training(true);

  RunOutcome outcome;
  try {
    notify([&] { observer.on_start({device_name, method->encoder_names(), cfg.epochs}); });
    std::vector<EncoderCentres> last_centres;
    for (int epoch = 1; epoch <= cfg.epochs; ++epoch) {
      current_epoch = epoch;
      while (stop != nullptr && stop->paused.load() && !stop->requested.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (stop != nullptr && stop->requested.load()) {
        outcome.status = RunStatus::Interrupted;
        outcome.message = "stopped by request after epoch " + std::to_string(epoch - 1);
        break;
      }
      const auto t0 = Clock::now();
      EpochRecord record;
      try {
        const double lr = lr_at(cfg, epoch);
        method->set_lr(lr);
        auto [x1, x2] = make_views(data.train_x, cfg.view_noise, gen);
        EpochData epoch_data(x1, x2, cfg.batch_size, gen);
        notify([&] { observer.on_phase(epoch, "train"); });
        const EpochLosses losses = method->train_epoch(epoch_data);
        if (!finite(losses)) {
          outcome.status = RunStatus::Diverged;
          outcome.message = "loss became non-finite (" + std::to_string(losses.loss) + ") in epoch " +
                            std::to_string(epoch) + "; try a lower learning rate";
          break;
        }
        notify([&] { observer.on_phase(epoch, "evaluate"); });
        record = evaluate(*method, data, cfg, epoch);
        record.loss = losses.loss;
        record.loss_e = losses.phase_e;
        record.loss_m = losses.phase_m;
        record.lr = lr;
      } catch (const ObserverFailure&) {
        throw;
      } catch (const c10::Error& e) {
        outcome.status = RunStatus::Failed;
        outcome.message = std::string("epoch ") + std::to_string(epoch) + ": " + e.what_without_backtrace();
        break;
      } catch (const std::exception& e) {
        outcome.status = RunStatus::Failed;
        outcome.message = std::string("epoch ") + std::to_string(epoch) + ": " + e.what();
        break;
      }
      record.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      last_centres = record.centres;
      notify([&] { observer.on_epoch(record); });
      outcome.epochs_done = epoch;
    }
    for (const auto& ec : last_centres) outcome.finals.push_back({ec.encoder, separation_stats(ec.centres), ec.centres});
    notify([&] { observer.on_finish(outcome); });
  } catch (const ObserverFailure& failure) {
    std::rethrow_exception(failure.error);
  }
  return outcome;
}

}  // namespace ssrl
