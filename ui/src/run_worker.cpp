#include "run_worker.hpp"

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/storage/recorder.hpp"

namespace ssrl::ui {
namespace {

// Forwards training events as queued signals. The run's id exists once the
// recorder (notified first) has created its row.
class SignalObserver : public TrainObserver {
 public:
  SignalObserver(RunWorker* w, int job, const storage::RunRecorder& recorder) : w_(w), job_(job), recorder_(recorder) {}
  void on_start(const RunStart& s) override {
    Q_EMIT w_->jobStarted(job_, recorder_.run_id(), QString::fromStdString(s.device));
  }
  void on_phase(int epoch, const std::string& phase) override {
    Q_EMIT w_->jobPhase(job_, epoch, QString::fromStdString(phase));
  }
  void on_epoch(const EpochRecord& r) override { Q_EMIT w_->jobEpoch(job_, recorder_.run_id(), r); }

 private:
  RunWorker* w_;
  int job_;
  const storage::RunRecorder& recorder_;
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
    // The row appears when training starts: a config or data error leaves
    // no run behind.
    storage::RunRecorder recorder(db, storage::new_run_row(config, tag.toStdString()));
    SignalObserver signals_out(this, job, recorder);
    FanOut fan({&recorder, &signals_out});
    TrainControl control;
    control.stop = control_.get();
    if (is_image_data(config.dataset)) control.checkpoint_dir = db.new_checkpoint_dir();
    const RunOutcome outcome = train(config, fan, control);
    const auto run_id = recorder.run_id();
    Q_EMIT jobFinished(job, run_id, outcome);
  } catch (const std::exception& e) {
    Q_EMIT jobFailed(job, QString::fromUtf8(e.what()));
  }
}

}  // namespace ssrl::ui
