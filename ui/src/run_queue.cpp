#include "run_queue.hpp"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "run_worker.hpp"

namespace ssrl::ui {
namespace {

enum Column { kJob, kMethod, kSeed, kEpochs, kState, kProgress, kColumns };

QString state_name(RunQueue::State s) {
  switch (s) {
    case RunQueue::State::Queued: return QStringLiteral("queued");
    case RunQueue::State::Running: return QStringLiteral("running");
    case RunQueue::State::Paused: return QStringLiteral("paused");
    case RunQueue::State::Finished: return QStringLiteral("finished");
    case RunQueue::State::Interrupted: return QStringLiteral("interrupted");
    case RunQueue::State::Failed: return QStringLiteral("failed");
  }
  return {};
}

QString clock_text(qint64 seconds) {
  return seconds >= 3600 ? QStringLiteral("%1:%2:%3").arg(seconds / 3600).arg((seconds / 60) % 60, 2, 10, QLatin1Char('0')).arg(seconds % 60, 2, 10, QLatin1Char('0'))
                         : QStringLiteral("%1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

RunQueue::RunQueue(QString db_path, QWidget* parent) : QWidget(parent), db_path_(std::move(db_path)) {
  register_metatypes();
  auto* layout = new QVBoxLayout(this);
  auto* buttons = new QHBoxLayout;
  start_ = new QPushButton(QStringLiteral("Start"));
  start_->setObjectName(QStringLiteral("start"));
  start_->setToolTip(QStringLiteral("Run the queued runs one after another (F5)"));
  pause_ = new QPushButton(QStringLiteral("Pause"));
  pause_->setObjectName(QStringLiteral("pause"));
  pause_->setToolTip(QStringLiteral("Hold the current run after its epoch; press again to resume (F6)"));
  stop_ = new QPushButton(QStringLiteral("Stop"));
  stop_->setObjectName(QStringLiteral("stop"));
  stop_->setToolTip(QStringLiteral("Stop the current run after its epoch; it is stored as interrupted (Shift+F5)"));
  remove_ = new QPushButton(QStringLiteral("Remove queued"));
  clear_ = new QPushButton(QStringLiteral("Clear done"));
  for (auto* b : {start_, pause_, stop_, remove_, clear_}) buttons->addWidget(b);
  buttons->addStretch(1);
  layout->addLayout(buttons);
  table_ = new QTableWidget(0, kColumns);
  table_->setObjectName(QStringLiteral("queue"));
  table_->setHorizontalHeaderLabels({"Job", "Method", "Seed", "Epochs", "State", "Progress"});
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionMode(QAbstractItemView::NoSelection);
  layout->addWidget(table_);
  connect(start_, &QPushButton::clicked, this, &RunQueue::start);
  connect(pause_, &QPushButton::clicked, this, &RunQueue::togglePause);
  connect(stop_, &QPushButton::clicked, this, &RunQueue::stop);
  connect(remove_, &QPushButton::clicked, this, &RunQueue::removeQueued);
  connect(clear_, &QPushButton::clicked, this, &RunQueue::clearDone);

  worker_ = new RunWorker(db_path_);
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(this, &RunQueue::requestJob, worker_, &RunWorker::runJob);
  connect(worker_, &RunWorker::jobStarted, this, [this](int id, qint64 run_id, const QString& device) {
    if (Job* j = job(id)) {
      j->run_id = run_id;
      j->clock.start();
      refreshRow(*j);
      Q_EMIT runStarted(run_id, j->config, device);
    }
  });
  connect(worker_, &RunWorker::jobPhase, this, [this](int id, int epoch, const QString& phase) {
    if (Job* j = job(id)) {
      j->phase = phase;
      j->epoch = std::max(j->epoch, epoch - 1);
      refreshRow(*j);
    }
  });
  connect(worker_, &RunWorker::jobEpoch, this, [this](int id, qint64 run_id, const EpochRecord& r) {
    if (Job* j = job(id)) {
      j->epoch = r.epoch;
      refreshRow(*j);
      Q_EMIT progressText(QStringLiteral("run %1: epoch %2/%3").arg(run_id).arg(r.epoch).arg(j->config.epochs));
    }
    Q_EMIT runEpoch(run_id, r);
  });
  connect(worker_, &RunWorker::jobFinished, this, [this](int id, qint64 run_id, const RunOutcome& out) {
    if (Job* j = job(id)) {
      j->state = out.status == RunStatus::Finished      ? State::Finished
                 : out.status == RunStatus::Interrupted ? State::Interrupted
                                                        : State::Failed;
      j->message = QString::fromStdString(out.message);
      j->phase.clear();
      refreshRow(*j);
    }
    current_ = -1;
    paused_ = false;
    Q_EMIT runFinished(run_id, out);
    if (out.status != RunStatus::Finished) running_queue_ = false;  // stopped or failed: hold the queue
    if (out.status == RunStatus::Failed || out.status == RunStatus::Diverged)
      Q_EMIT runFailed(QStringLiteral("Run %1 %2: %3").arg(run_id).arg(QString::fromLatin1(status_name(out.status)),
                                                                       QString::fromStdString(out.message)));
    launchNext();
  });
  connect(worker_, &RunWorker::jobFailed, this, [this](int id, const QString& message) {
    if (Job* j = job(id)) {
      j->state = State::Failed;
      j->message = message;
      refreshRow(*j);
    }
    current_ = -1;
    running_queue_ = false;
    Q_EMIT runFailed(message);
    launchNext();
  });
  thread_.setObjectName(QStringLiteral("ssrl-trainer"));
  thread_.start();
  updateButtons();
}

RunQueue::~RunQueue() {
  worker_->setPaused(false);
  worker_->requestStop();
  thread_.quit();
  thread_.wait();
}

RunQueue::Job* RunQueue::job(int id) {
  for (auto& j : jobs_)
    if (j.id == id) return &j;
  return nullptr;
}

RunQueue::State RunQueue::state(int id) const {
  for (const auto& j : jobs_)
    if (j.id == id) return j.state;
  return State::Failed;
}

qint64 RunQueue::runOf(int id) const {
  for (const auto& j : jobs_)
    if (j.id == id) return j.run_id;
  return -1;
}

int RunQueue::pending() const {
  int n = 0;
  for (const auto& j : jobs_) n += j.state == State::Queued;
  return n;
}

int RunQueue::add(const RunConfig& config) {
  Job j{next_id_++, config, State::Queued, -1, 0, {}, {}, {}};
  const int row = table_->rowCount();
  table_->insertRow(row);
  for (int c = 0; c < kProgress; ++c) table_->setItem(row, c, new QTableWidgetItem);
  auto* bar = new QProgressBar;
  bar->setRange(0, config.epochs);
  bar->setValue(0);
  table_->setCellWidget(row, kProgress, bar);
  jobs_.push_back(j);
  refreshRow(jobs_.back());
  updateButtons();
  return j.id;
}

void RunQueue::setDatabase(const QString& path) {
  if (busy()) return;
  db_path_ = path;
  worker_->setDatabase(path);
}

void RunQueue::start() {
  running_queue_ = true;
  launchNext();
}

void RunQueue::launchNext() {
  if (busy() || !running_queue_) {
    updateButtons();
    return;
  }
  for (auto& j : jobs_) {
    if (j.state != State::Queued) continue;
    j.state = State::Running;
    current_ = j.id;
    refreshRow(j);
    Q_EMIT requestJob(j.id, j.config, QStringLiteral("gui"));
    Q_EMIT busyChanged(true);
    updateButtons();
    return;
  }
  running_queue_ = false;
  Q_EMIT busyChanged(false);
  updateButtons();
}

void RunQueue::togglePause() {
  if (!busy()) return;
  paused_ = !paused_;
  worker_->setPaused(paused_);
  if (Job* j = job(current_)) {
    j->state = paused_ ? State::Paused : State::Running;
    refreshRow(*j);
  }
  updateButtons();
}

void RunQueue::stop() {
  running_queue_ = false;
  if (!busy()) return;
  paused_ = false;
  worker_->setPaused(false);
  worker_->requestStop();
  updateButtons();
}

void RunQueue::removeQueued() {
  for (int i = static_cast<int>(jobs_.size()) - 1; i >= 0; --i) {
    if (jobs_[static_cast<std::size_t>(i)].state != State::Queued) continue;
    jobs_.erase(jobs_.begin() + i);
    table_->removeRow(i);
  }
  updateButtons();
}

void RunQueue::clearDone() {
  for (int i = static_cast<int>(jobs_.size()) - 1; i >= 0; --i) {
    const State s = jobs_[static_cast<std::size_t>(i)].state;
    if (s == State::Queued || s == State::Running || s == State::Paused) continue;
    jobs_.erase(jobs_.begin() + i);
    table_->removeRow(i);
  }
  updateButtons();
}

void RunQueue::refreshRow(const Job& j) {
  int row = -1;
  for (std::size_t i = 0; i < jobs_.size(); ++i)
    if (jobs_[i].id == j.id) row = static_cast<int>(i);
  if (row < 0) return;
  table_->item(row, kJob)->setText(j.run_id >= 0 ? QStringLiteral("%1 (run %2)").arg(j.id).arg(j.run_id) : QString::number(j.id));
  table_->item(row, kMethod)->setText(QString::fromStdString(j.config.method));
  table_->item(row, kSeed)->setText(QString::number(j.config.seed));
  table_->item(row, kEpochs)->setText(QString::number(j.config.epochs));
  table_->item(row, kState)->setText(state_name(j.state));
  table_->item(row, kState)->setToolTip(j.message);
  auto* bar = qobject_cast<QProgressBar*>(table_->cellWidget(row, kProgress));
  bar->setValue(j.epoch);
  QString text = QStringLiteral("epoch %1/%2").arg(j.epoch).arg(j.config.epochs);
  if (j.state == State::Running && !j.phase.isEmpty()) text += QStringLiteral(" · ") + j.phase;
  if ((j.state == State::Running || j.state == State::Paused) && j.epoch > 0 && j.clock.isValid()) {
    const double per = j.clock.elapsed() / 1000.0 / j.epoch;
    text += QStringLiteral(" · ETA %1").arg(clock_text(static_cast<qint64>(per * (j.config.epochs - j.epoch) + 0.5)));
  }
  if (j.state == State::Failed || j.state == State::Interrupted) text += QStringLiteral(" · ") + j.message;
  bar->setFormat(text);
}

void RunQueue::updateButtons() {
  start_->setEnabled(!busy() && pending() > 0);
  pause_->setEnabled(busy());
  pause_->setText(paused_ ? QStringLiteral("Resume") : QStringLiteral("Pause"));
  stop_->setEnabled(busy());
  remove_->setEnabled(pending() > 0);
}

}  // namespace ssrl::ui
