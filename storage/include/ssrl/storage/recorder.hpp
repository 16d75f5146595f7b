#pragma once
// Writes a training run into the database as it happens: one transaction per
// epoch, so a crash loses at most the epoch in flight.

#include <cstdint>
#include <string>

#include "ssrl/storage/database.hpp"
#include "ssrl/methods.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::storage {

class RunRecorder : public TrainObserver {
 public:
  // An existing run (queued earlier, or being resumed).
  RunRecorder(Database& db, std::int64_t run_id) : db_(db), run_id_(run_id) {}
  // A new run, created when training starts: input rejected before that
  // (bad settings, missing or damaged data) leaves no run behind.
  RunRecorder(Database& db, NewRun row) : db_(db), row_(std::move(row)) {}

  void on_start(const RunStart& start) override {
    if (run_id_ < 0) run_id_ = db_.create_run(row_);
    db_.mark_running(run_id_, start.device);
  }
  void on_epoch(const EpochRecord& record) override { db_.append_epoch(run_id_, record); }
  void on_checkpoint(int epoch, const std::string& path) override { db_.set_checkpoint(run_id_, epoch, path); }
  void on_finish(const RunOutcome& outcome) override { db_.finish_run(run_id_, outcome); }

  // -1 until the run has started.
  std::int64_t run_id() const { return run_id_; }

 private:
  Database& db_;
  std::int64_t run_id_ = -1;
  NewRun row_;
};

// The row a new run of `cfg` gets. Header-only: it needs the method registry
// (core), which this SQLite-only library does not link.
inline NewRun new_run_row(const RunConfig& cfg, const std::string& tag) {
  const MethodInfo& info = find_method(cfg.method);
  NewRun row;
  row.name = cfg.name.empty() ? cfg.method + "-" + cfg.dataset + "-s" + std::to_string(cfg.seed) : cfg.name;
  row.method = cfg.method;
  row.base_method = info.base;
  row.paradigm = paradigm_name(info.paradigm);
  row.dataset = cfg.dataset;
  row.config_json = to_json(cfg).dump();
  row.seed = cfg.seed;
  row.epochs_planned = cfg.epochs;
  row.tag = tag;
  row.program_version = SSRL_VERSION;
  return row;
}

}  // namespace ssrl::storage
