#pragma once
// The run queue: configured runs wait here and execute one after another on
// the worker thread. Start, pause, resume and stop act on the queue and the
// run in progress; each row shows epoch, phase and ETA.

#include <QElapsedTimer>
#include <QString>
#include <QThread>
#include <QWidget>

#include <vector>

#include "metatypes.hpp"

class QTableWidget;
class QPushButton;

namespace ssrl::ui {

class RunWorker;

class RunQueue : public QWidget {
  Q_OBJECT
 public:
  enum class State { Queued, Running, Paused, Finished, Interrupted, Failed };

  explicit RunQueue(QString db_path, QWidget* parent = nullptr);
  ~RunQueue() override;  // stops the run in progress, then the thread

  int add(const RunConfig& config);
  bool busy() const { return current_ >= 0; }
  bool paused() const { return paused_; }
  int pending() const;
  State state(int job) const;
  qint64 runOf(int job) const;
  // Only while idle; later runs go to the new database.
  void setDatabase(const QString& path);

 public Q_SLOTS:
  void start();
  void togglePause();
  void stop();
  void removeQueued();
  void clearDone();

 Q_SIGNALS:
  void runStarted(qint64 run_id, const ssrl::RunConfig& config, const QString& device);
  void runEpoch(qint64 run_id, const ssrl::EpochRecord& record);
  void runFinished(qint64 run_id, const ssrl::RunOutcome& outcome);
  void runFailed(const QString& message);
  void progressText(const QString& text);
  void busyChanged(bool busy);
  void requestJob(int job, const ssrl::RunConfig& config, const QString& tag);  // to the worker

 private:
  struct Job {
    int id;
    RunConfig config;
    State state = State::Queued;
    qint64 run_id = -1;
    int epoch = 0;
    QString phase;
    QString message;
    QElapsedTimer clock;
  };
  Job* job(int id);
  void launchNext();
  void refreshRow(const Job& j);
  void updateButtons();

  QThread thread_;
  RunWorker* worker_ = nullptr;
  QTableWidget* table_ = nullptr;
  QPushButton *start_ = nullptr, *pause_ = nullptr, *stop_ = nullptr, *remove_ = nullptr, *clear_ = nullptr;
  std::vector<Job> jobs_;
  int next_id_ = 1;
  int current_ = -1;
  bool running_queue_ = false;
  bool paused_ = false;
  QString db_path_;
};

}  // namespace ssrl::ui
