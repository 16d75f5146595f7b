#pragma once
// Entry point to training: plain config in, plain records out through an
// observer. No torch here, so the CLI and GUI compile without it.

#include <atomic>
#include <string>

#include "ssrl/config.hpp"
#include "ssrl/records.hpp"

namespace ssrl {

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void on_start(const RunStart& start) {}
  // Called when a part of an epoch begins ("E-phase", "M-phase", "train",
  // "evaluate"), from the training thread.
  virtual void on_phase(int epoch, const std::string& phase) {}
  // Called after every epoch, from the training thread.
  virtual void on_epoch(const EpochRecord& record) {}
  virtual void on_finish(const RunOutcome& outcome) {}
};

// Set from another thread (or a signal handler): `requested` stops the run
// after the current epoch (it ends as Interrupted); `paused` holds it
// between epochs until cleared.
struct StopFlag {
  std::atomic<bool> requested{false};
  std::atomic<bool> paused{false};
};

// Trains one run to completion, divergence, interruption or failure.
// Throws ConfigError before on_start if the config is invalid; after
// on_start, errors end the run as Failed (the message says why). An
// exception thrown by the observer propagates after on_finish is attempted.
RunOutcome train(const RunConfig& cfg, TrainObserver& observer, const StopFlag* stop = nullptr);

// The device a config's "device" setting resolves to on this machine
// ("cpu", "cuda:0"); throws ConfigError if CUDA is asked for but absent.
std::string resolve_device(const std::string& requested);
bool cuda_available();

// Process-wide runtime setup; call first thing in main() (may re-exec the
// process so that OpenMP reads OMP_WAIT_POLICY=passive at start-up).
void prepare_process(int argc, char** argv);
// Intra-op threads for torch in this process.
void set_torch_threads(int threads);

std::string torch_version();

}  // namespace ssrl
