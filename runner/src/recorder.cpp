#include "ssrl/runner/recorder.hpp"

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"

namespace ssrl::runner {

void RunRecorder::on_start(const RunStart& start) {
  if (run_id_ < 0) run_id_ = db_.create_run(row_);
  db_.mark_running(run_id_, start.device);
}

void RunRecorder::on_epoch(const EpochRecord& record) { db_.append_epoch(run_id_, record); }

void RunRecorder::on_checkpoint(int epoch, const std::string& path) { db_.set_checkpoint(run_id_, epoch, path); }

void RunRecorder::on_finish(const RunOutcome& outcome) { db_.finish_run(run_id_, outcome); }

storage::NewRun new_run_row(const RunConfig& cfg, const std::string& tag) {
  const MethodInfo& info = find_method(cfg.method);
  storage::NewRun row;
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

RunConfig stored_config(const storage::RunRow& row) {
  const std::string origin = "the stored config of run " + std::to_string(row.id);
  const auto stored = nlohmann::json::parse(row.config_json, nullptr, false);
  if (!stored.is_object()) throw ConfigError("config", origin + " is not a JSON object");
  ConfigBuilder builder(method_in_json(stored), dataset_in_json(stored));
  builder.merge_json(stored, origin);
  return builder.build();
}

}  // namespace ssrl::runner
