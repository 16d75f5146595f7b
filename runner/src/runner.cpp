#include "ssrl/runner/runner.hpp"

#include <filesystem>
#include <vector>

#include "ssrl/errors.hpp"

namespace ssrl::runner {
namespace {

namespace fs = std::filesystem;

// Keeps the runner's idea of the current run in step with the recorder's.
struct IdWatch : TrainObserver {
  const RunRecorder& recorder;
  std::int64_t& id;
  IdWatch(const RunRecorder& r, std::int64_t& i) : recorder(r), id(i) {}
  void on_start(const RunStart&) override { id = recorder.run_id(); }
};

}  // namespace

RunOutcome Runner::train_with(RunRecorder& recorder, const RunConfig& cfg, TrainControl control,
                              const RunOptions& options) {
  IdWatch watch(recorder, run_id_);
  std::vector<TrainObserver*> targets{&recorder, &watch};
  if (options.observer != nullptr) targets.push_back(options.observer);
  FanOut fan(targets);
  control.stop = options.stop;
  if (options.parallel) control.parallel = *options.parallel;
  // Every run keeps a checkpoint (resume, export weights); a continued run
  // keeps its folder.
  if (control.checkpoint_dir.empty()) control.checkpoint_dir = db_.new_checkpoint_dir();
  return train(cfg, fan, control);
}

RunOutcome Runner::run(const RunConfig& cfg, const std::string& tag, const RunOptions& options) {
  const auto row = new_run_row(cfg, tag);
  run_id_ = -1;
  run_name_ = row.name;
  RunRecorder recorder(db_, row);
  return train_with(recorder, cfg, TrainControl{}, options);
}

RunOutcome Runner::run_stored(std::int64_t run_id, const RunOptions& options) {
  const auto detail = db_.load_run(run_id);
  if (!detail) throw ConfigError("run", "no run " + std::to_string(run_id) + " in " + db_.path());
  const auto& row = detail->run;
  run_id_ = run_id;
  run_name_ = row.name;
  RunRecorder recorder(db_, run_id);
  try {
    const RunConfig cfg = stored_config(row);
    TrainControl control;
    std::error_code ec;
    if (!row.checkpoint.empty() && fs::exists(row.checkpoint, ec)) {
      control.resume_from = row.checkpoint;
      control.checkpoint_dir = fs::path(row.checkpoint).parent_path().string();
    }
    return train_with(recorder, cfg, control, options);
  } catch (const Error& e) {
    RunOutcome refused;
    refused.status = RunStatus::Failed;
    refused.message = e.what();
    db_.finish_run(run_id, refused);
    throw;
  }
}

RunOutcome Runner::resume(const std::string& id_or_name, const RunOptions& options) {
  const auto d = db_.load_run(id_or_name);
  if (!d) throw ConfigError("resume", "no run with id or name '" + id_or_name + "' in " + db_.path());
  const auto& r = d->run;
  if (r.status != "interrupted" && r.status != "failed")
    throw ConfigError("resume", "run " + std::to_string(r.id) + " is " + r.status + "; only interrupted or failed runs resume");
  std::error_code ec;
  if (r.checkpoint.empty() || !fs::exists(r.checkpoint, ec))
    throw ConfigError("resume", "run " + std::to_string(r.id) + " has no checkpoint to resume from" +
                                    (r.checkpoint.empty() ? "" : " (" + r.checkpoint + " is gone)"));
  stored_config(r);  // still valid here, before anything changes
  db_.prepare_resume(r.id, checkpoint_epoch(r.checkpoint));
  return run_stored(r.id, options);
}

RunOutcome Runner::random_init(const RunConfig& cfg, const std::string& tag, TrainObserver* observer) {
  auto row = new_run_row(cfg, tag);
  row.method = row.base_method = "random-init";
  row.paradigm = "baseline";
  if (cfg.name.empty()) row.name = "random-init-" + cfg.dataset + "-" + resolved_encoder(cfg) + "-s" + std::to_string(cfg.seed);
  auto stored = to_json(cfg);
  stored["method"] = stored["base_method"] = "random-init";
  row.config_json = stored.dump();
  row.epochs_planned = 0;
  run_id_ = -1;
  run_name_ = row.name;
  RunRecorder recorder(db_, row);
  IdWatch watch(recorder, run_id_);
  std::vector<TrainObserver*> targets{&recorder, &watch};
  if (observer != nullptr) targets.push_back(observer);
  FanOut fan(targets);
  return random_init_probe(cfg, fan);
}

}  // namespace ssrl::runner
