#pragma once
// Writes a training run into the database as it happens: one transaction per
// epoch, so a crash loses at most the epoch in flight.

#include <cstdint>
#include <string>

#include "ssrl/config.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::runner {

class RunRecorder : public TrainObserver {
 public:
  // An existing run (queued earlier, or being resumed).
  RunRecorder(storage::Database& db, std::int64_t run_id) : db_(db), run_id_(run_id) {}
  // A new run, created when training starts: input rejected before that
  // (bad settings, missing or damaged data) leaves no run behind.
  RunRecorder(storage::Database& db, storage::NewRun row) : db_(db), row_(std::move(row)) {}

  void on_start(const RunStart& start) override;
  void on_epoch(const EpochRecord& record) override;
  void on_checkpoint(int epoch, const std::string& path) override;
  void on_finish(const RunOutcome& outcome) override;

  // -1 until the run has started.
  std::int64_t run_id() const { return run_id_; }

 private:
  storage::Database& db_;
  std::int64_t run_id_ = -1;
  storage::NewRun row_;
};

// The row a new run of `cfg` gets (name, method, paradigm, stored config).
storage::NewRun new_run_row(const RunConfig& cfg, const std::string& tag);

// The config a stored run was made with, checked again; ConfigError naming
// the run if it no longer validates.
RunConfig stored_config(const storage::RunRow& row);

}  // namespace ssrl::runner
