#include "run_worker.hpp"

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/storage/recorder.hpp"

namespace ssrl::ui {
namespace {

// Forwards training events as queued signals.
class SignalObserver : public TrainObserver {
 public:
  SignalObserver(RunWorker* w, int job, qint64 run_id) : w_(w), job_(job), run_id_(run_id) {}
  void on_start(const RunStart& s) override { Q_EMIT w_->jobStarted(job_, run_id_, QString::fromStdString(s.device)); }
  void on_phase(int epoch, const std::string& phase) override {
    Q_EMIT w_->jobPhase(job_, epoch, QString::fromStdString(phase));
  }
  void on_epoch(const EpochRecord& r) override { Q_EMIT w_->jobEpoch(job_, run_id_, r); }

 private:
  RunWorker* w_;
  int job_;
  qint64 run_id_;
};

class Both : public TrainObserver {
 public:
  Both(TrainObserver& a, TrainObserver& b) : a_(a), b_(b) {}
  void on_start(const RunStart& s) override { a_.on_start(s), b_.on_start(s); }
  void on_phase(int e, const std::string& p) override { a_.on_phase(e, p), b_.on_phase(e, p); }
  void on_epoch(const EpochRecord& r) override { a_.on_epoch(r), b_.on_epoch(r); }
  void on_finish(const RunOutcome& o) override { a_.on_finish(o), b_.on_finish(o); }

 private:
  TrainObserver &a_, &b_;
};

}  // namespace

RunWorker::RunWorker(QString db_path) : db_path_(std::move(db_path)) {}

void RunWorker::runJob(int job, const RunConfig& config, const QString& tag) {
  control_->requested = false;
  control_->paused = false;
  try {
    validate(config);
    resolve_device(config.device);
    storage::Database db(db_path_.toStdString());
    const MethodInfo& info = find_method(config.method);
    storage::NewRun row;
    row.name = config.name.empty() ? config.method + "-" + config.dataset + "-s" + std::to_string(config.seed) : config.name;
    row.method = config.method;
    row.base_method = info.base;
    row.paradigm = paradigm_name(info.paradigm);
    row.dataset = config.dataset;
    row.config_json = to_json(config).dump();
    row.seed = config.seed;
    row.epochs_planned = config.epochs;
    row.tag = tag.toStdString();
    row.program_version = SSRL_VERSION;
    const auto run_id = db.create_run(row);
    storage::RunRecorder recorder(db, run_id);
    SignalObserver signals_out(this, job, run_id);
    Both both(recorder, signals_out);
    const RunOutcome outcome = train(config, both, control_.get());
    Q_EMIT jobFinished(job, run_id, outcome);
  } catch (const std::exception& e) {
    Q_EMIT jobFailed(job, QString::fromUtf8(e.what()));
  }
}

}  // namespace ssrl::ui
