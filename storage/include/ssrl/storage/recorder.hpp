#pragma once
// Writes a training run into the database as it happens: one transaction per
// epoch, so a crash loses at most the epoch in flight.

#include <cstdint>

#include "ssrl/storage/database.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::storage {

class RunRecorder : public TrainObserver {
 public:
  RunRecorder(Database& db, std::int64_t run_id) : db_(db), run_id_(run_id) {}
  void on_start(const RunStart& start) override { db_.mark_running(run_id_, start.device); }
  void on_epoch(const EpochRecord& record) override { db_.append_epoch(run_id_, record); }
  void on_finish(const RunOutcome& outcome) override { db_.finish_run(run_id_, outcome); }

 private:
  Database& db_;
  std::int64_t run_id_;
};

}  // namespace ssrl::storage
