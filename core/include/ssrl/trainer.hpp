#pragma once
// Entry point to training: plain config in, plain records out through an
// observer. No torch here, so the CLI and GUI compile without it.

#include <atomic>
#include <string>
#include <utility>
#include <vector>

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
  // A checkpoint holding the state after `epoch` was written to `path`.
  virtual void on_checkpoint(int epoch, const std::string& path) {}
  virtual void on_finish(const RunOutcome& outcome) {}
};

// Forwards every event to several observers, in order.
class FanOut : public TrainObserver {
 public:
  explicit FanOut(std::vector<TrainObserver*> targets) : targets_(std::move(targets)) {}
  void on_start(const RunStart& s) override {
    for (auto* t : targets_) t->on_start(s);
  }
  void on_phase(int epoch, const std::string& phase) override {
    for (auto* t : targets_) t->on_phase(epoch, phase);
  }
  void on_epoch(const EpochRecord& r) override {
    for (auto* t : targets_) t->on_epoch(r);
  }
  void on_checkpoint(int epoch, const std::string& path) override {
    for (auto* t : targets_) t->on_checkpoint(epoch, path);
  }
  void on_finish(const RunOutcome& o) override {
    for (auto* t : targets_) t->on_finish(o);
  }

 private:
  std::vector<TrainObserver*> targets_;
};

// Set from another thread (or a signal handler): `requested` stops the run
// after the current epoch (it ends as Interrupted); `paused` holds it
// between epochs until cleared.
struct StopFlag {
  std::atomic<bool> requested{false};
  std::atomic<bool> paused{false};
};

// One process of a data-parallel run: `world` processes split every batch;
// rank 0 alone reports to the observer. Process group over TCP (Gloo).
struct DataParallel {
  int rank = 0;
  int world = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;
  bool sync_bn = true;        // batch norm over the global batch
  int timeout_seconds = 600;  // a collective waiting longer than this fails the run
};

struct TrainControl {
  const StopFlag* stop = nullptr;
  DataParallel parallel;
  // Where checkpoints go ("" = none): <dir>/epoch-<N>.pt every
  // checkpoint_every epochs, at the end, and when the run is stopped (the
  // state after its last completed epoch).
  std::string checkpoint_dir;
  // A checkpoint to continue from ("" = start fresh).
  std::string resume_from;
};

// Trains one run to completion, divergence, interruption or failure.
// Throws ConfigError (bad settings) or DataError (missing or damaged files)
// before on_start; after on_start, errors end the run as Failed (the message
// says why). An exception thrown by the observer propagates.
RunOutcome train(const RunConfig& cfg, TrainObserver& observer, const TrainControl& control);
RunOutcome train(const RunConfig& cfg, TrainObserver& observer, const StopFlag* stop = nullptr);

// The baseline every trained encoder is compared with: the encoder of the
// config's method at its random initialisation (from the config's seed),
// linear-probed like a trained run. Image data only. The observer sees
// on_start and on_finish (with the probe results).
RunOutcome random_init_probe(const RunConfig& cfg, TrainObserver& observer);

// The epoch a checkpoint file holds the state after (DataError if unreadable).
int checkpoint_epoch(const std::string& path);

// The device a config's "device" setting resolves to on this machine
// ("cpu", "cuda:0"); throws ConfigError if CUDA is asked for but absent.
std::string resolve_device(const std::string& requested);
// A data-parallel rank's device: with "cuda" or "auto" resolved to CUDA, the
// GPU of LOCAL_RANK (as torchrun and Slurm launchers set it), else rank mod
// the number of GPUs; an explicit "cuda:N" or the CPU as resolved.
std::string rank_device(const std::string& requested, const std::string& resolved, int rank);
bool cuda_available();

// Intra-op threads for torch in this process.
void set_torch_threads(int threads);

std::string torch_version();

}  // namespace ssrl
