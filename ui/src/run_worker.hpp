#pragma once
// The worker object that trains runs on its own QThread (Tiled's pattern):
// it talks to the GUI only through queued signals, is cancelled
// cooperatively through atomic flags, and owns its database connection.

#include <QObject>
#include <QString>

#include <atomic>
#include <memory>

#include "metatypes.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::ui {

class RunWorker : public QObject {
  Q_OBJECT
 public:
  explicit RunWorker(QString db_path);

  // Thread-safe: may be called from the GUI thread while a run trains.
  void requestStop() { control_->requested = true; }
  void setPaused(bool paused) { control_->paused = paused; }
  bool paused() const { return control_->paused; }
  // Only while no run is in progress.
  void setDatabase(const QString& path) { db_path_ = path; }

 public Q_SLOTS:
  // Trains one run to its end; emits the signals below on the way.
  void runJob(int job, const ssrl::RunConfig& config, const QString& tag);

 Q_SIGNALS:
  void jobStarted(int job, qint64 run_id, const QString& device);
  void jobPhase(int job, int epoch, const QString& phase);
  void jobEpoch(int job, qint64 run_id, const ssrl::EpochRecord& record);
  void jobFinished(int job, qint64 run_id, const ssrl::RunOutcome& outcome);
  // The run could not be started or stored (the database, a config error).
  void jobFailed(int job, const QString& message);

 private:
  QString db_path_;
  std::shared_ptr<StopFlag> control_ = std::make_shared<StopFlag>();
};

}  // namespace ssrl::ui
