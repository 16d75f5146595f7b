#include "ssrl/trainer.hpp"

#include <chrono>
#include <cmath>
#include <thread>

#include "methods/method.hpp"
#include "ssrl/errors.hpp"
#include "training/checkpoint.hpp"
#include "training/distributed.hpp"
#include "training/precision.hpp"
#include "training/task.hpp"

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

}  // namespace

RunOutcome random_init_probe(const RunConfig& cfg, TrainObserver& observer) {
  validate(cfg);
  if (!is_image_data(cfg.dataset))
    throw ConfigError("dataset", "the random-initialisation probe is for image data sets (got " + cfg.dataset + ")");
  if (cfg.probe_epochs <= 0) throw ConfigError("probe_epochs", "must be at least 1 for a probe");
  const std::string device_name = resolve_device(cfg.device);
  set_torch_threads(cfg.threads);
  const torch::Device device(device_name);
  auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(cfg.seed));
  auto task = make_image_task(cfg, device, gen);
  MethodEnv env{cfg, device, gen, task->encoder_factory(), task->embed_dim(), task->steps_per_epoch()};
  auto method = make_method(env);
  RunOutcome outcome;
  try {
    notify([&] { observer.on_start({device_name, {"f"}, 0, 1}); });
    // BN running statistics of an untrained network are (0, 1); a pass over
    // training batches in train mode gives them the data's statistics, as
    // a trained encoder's have, without any gradient step.
    {
      torch::NoGradGuard no_grad;
      method->set_training(true);
      auto data = task->epoch_data(1, nullptr);
      const int n = std::min(data->begin_pass(), 20);
      for (int i = 0; i < n; ++i) {
        auto [x1, x2] = data->batch(i);
        method->embed("f", x1);
      }
    }
    task->finish(*method, {}, outcome);
    outcome.probes.resize(std::min<std::size_t>(outcome.probes.size(), 1));  // encoder f only
    notify([&] { observer.on_finish(outcome); });
  } catch (const ObserverFailure& failure) {
    std::rethrow_exception(failure.error);
  }
  return outcome;
}

RunOutcome train(const RunConfig& cfg, TrainObserver& observer, const StopFlag* stop) {
  TrainControl control;
  control.stop = stop;
  return train(cfg, observer, control);
}

RunOutcome train(const RunConfig& cfg, TrainObserver& observer, const TrainControl& control) {
  validate(cfg);
  const std::string device_name = control.parallel.world > 1
                                      ? rank_device(cfg.device, resolve_device(cfg.device), control.parallel.rank)
                                      : resolve_device(cfg.device);
  set_torch_threads(cfg.threads);
  const torch::Device device(device_name);
  apply_backend_settings(cfg);
  const StopFlag* stop = control.stop;
  // Data-parallel: every rank obeys the stop all ranks agreed on, at the same
  // step; rank 0 alone reports.
  std::unique_ptr<dist::Scope> parallel;
  if (control.parallel.world > 1) {
    parallel = std::make_unique<dist::Scope>(control.parallel, control.stop, device);
    stop = parallel->agreed();
  }
  const bool reporting = control.parallel.rank == 0;

  // All randomness of the run comes from this generator, in a fixed order:
  // the data (and its fixed evaluation views), the networks, then the epochs,
  // except the image views of training batches: per sample, from the seed
  // (data/augment.hpp), so that they do not depend on the number of processes.
  auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(cfg.seed));
  std::unique_ptr<Task> task =
      is_image_data(cfg.dataset) ? make_image_task(cfg, device, gen) : make_gaussian_task(cfg, device, gen);

  int current_epoch = 0;
  MethodEnv env{cfg, device, gen, task->encoder_factory(), task->embed_dim(), task->steps_per_epoch()};
  env.phase = [&](const std::string& phase) { notify([&] { observer.on_phase(current_epoch, phase); }); };
  std::unique_ptr<Method> method = make_method(env);

  int first_epoch = 1;
  if (!control.resume_from.empty()) {
    first_epoch = load_snapshot(control.resume_from, *method, gen, device) + 1;
  }
  method->set_training(true);
  const Precision precision = precision_for(cfg, device);

  RunOutcome outcome;
  Snapshot snapshot;
  auto save = [&](const Snapshot& s) {
    if (control.checkpoint_dir.empty() || s.epoch <= 0) return;
    outcome.checkpoint = write_snapshot(s, control.checkpoint_dir);
    notify([&] { observer.on_checkpoint(s.epoch, outcome.checkpoint); });
  };
  try {
    const std::string device_label =
        control.parallel.world > 1 ? device_name + " x" + std::to_string(control.parallel.world) : device_name;
    notify([&] { observer.on_start({device_label, method->encoder_names(), cfg.epochs, first_epoch}); });
    outcome.epochs_done = first_epoch - 1;
    std::vector<EncoderCentres> last_centres;
    for (int epoch = first_epoch; epoch <= cfg.epochs; ++epoch) {
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
        auto data = task->epoch_data(epoch, stop);
        notify([&] { observer.on_phase(epoch, "train"); });
        EpochLosses losses;
        {
          const PrecisionScope scope(precision);  // each step opens its own autocast
          losses = method->train_epoch(*data);
        }
        if (stop != nullptr && stop->requested.load()) {
          // Stopped inside the epoch: it does not count; the state after the
          // last completed epoch is what the checkpoint keeps.
          outcome.status = RunStatus::Interrupted;
          outcome.message = "stopped by request during epoch " + std::to_string(epoch) + "; kept the state after epoch " +
                            std::to_string(epoch - 1);
          break;
        }
        if (!finite(losses)) {
          outcome.status = RunStatus::Diverged;
          outcome.message = "loss became non-finite (" + std::to_string(losses.loss) + ") in epoch " +
                            std::to_string(epoch) + "; try a lower learning rate";
          break;
        }
        notify([&] { observer.on_phase(epoch, "evaluate"); });
        method->set_training(false);
        task->evaluate(*method, record);  // every rank: it may share the work
        method->set_training(true);
        record.epoch = epoch;
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
      if (!control.checkpoint_dir.empty()) {
        snapshot = take_snapshot(*method, gen, epoch, cfg);
        // checkpoint_every is an image setting: a Gaussian run's epochs take
        // milliseconds, so it keeps one checkpoint, at the end or when stopped.
        const int every = is_image_data(cfg.dataset) ? cfg.checkpoint_every : 0;
        if (every > 0 && epoch % every == 0 && epoch < cfg.epochs) save(snapshot);
      }
    }
    if (outcome.status == RunStatus::Finished || outcome.status == RunStatus::Interrupted) {
      save(snapshot);  // the end, or the last completed epoch of a stopped run
    }
    if (outcome.status == RunStatus::Finished && reporting) {
      try {
        notify([&] { observer.on_phase(cfg.epochs, "linear probe"); });
        task->finish(*method, last_centres, outcome);
      } catch (const ObserverFailure&) {
        throw;
      } catch (const std::exception& e) {
        outcome.status = RunStatus::Failed;
        outcome.message = std::string("final evaluation: ") + e.what();
      }
    } else {
      // Separation of what was reached; no probe for an unfinished run.
      for (const auto& ec : last_centres)
        outcome.finals.push_back({ec.encoder, separation_stats(ec.centres), ec.centres});
    }
    notify([&] { observer.on_finish(outcome); });
  } catch (const ObserverFailure& failure) {
    std::rethrow_exception(failure.error);
  }
  return outcome;
}

}  // namespace ssrl
