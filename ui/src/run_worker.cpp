#include "run_worker.hpp"

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"
#include "ssrl/runner/runner.hpp"
#include "ssrl/storage/database.hpp"

namespace ssrl::ui {
namespace {

// Forwards training events as queued signals. The run's id exists once the
// runner's recorder (notified first) has created its row.
class SignalObserver : public TrainObserver {
 public:
  SignalObserver(RunWorker* w, int job, const runner::Runner& runner) : w_(w), job_(job), runner_(runner) {}
  void on_start(const RunStart& s) override {
    Q_EMIT w_->jobStarted(job_, runner_.run_id(), QString::fromStdString(s.device));
  }
  void on_phase(int epoch, const std::string& phase) override {
    Q_EMIT w_->jobPhase(job_, epoch, QString::fromStdString(phase));
  }
  void on_epoch(const EpochRecord& r) override { Q_EMIT w_->jobEpoch(job_, runner_.run_id(), r); }

 private:
  RunWorker* w_;
  int job_;
  const runner::Runner& runner_;
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
    runner::Runner runner(db);
    SignalObserver signals_out(this, job, runner);
    runner::RunOptions options;
    options.observer = &signals_out;
    options.stop = control_.get();
    const RunOutcome outcome = runner.run(config, tag.toStdString(), options);
    const auto run_id = runner.run_id();
    Q_EMIT jobFinished(job, run_id, outcome);
  } catch (const std::exception& e) {
    Q_EMIT jobFailed(job, QString::fromUtf8(e.what()));
  }
}

}  // namespace ssrl::ui
