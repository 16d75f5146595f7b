#include "sphere_dock.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>

#include "ssrl/viz/sphere_view.hpp"

namespace ssrl::ui {

SphereDock::SphereDock(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  auto* form = new QFormLayout;
  run_ = new QComboBox;
  run_->setObjectName(QStringLiteral("sphereRun"));
  compare_ = new QComboBox;
  compare_->setObjectName(QStringLiteral("sphereCompare"));
  encoder_ = new QComboBox;
  encoder_->setObjectName(QStringLiteral("sphereEncoder"));
  form->addRow(QStringLiteral("Run"), run_);
  form->addRow(QStringLiteral("Compare with"), compare_);
  form->addRow(QStringLiteral("Encoder"), encoder_);
  layout->addLayout(form);

  view_ = new viz::SphereView;
  view_->setObjectName(QStringLiteral("sphereView"));
  layout->addWidget(view_, 1);

  auto* scrub = new QHBoxLayout;
  epoch_ = new QSlider(Qt::Horizontal);
  epoch_->setObjectName(QStringLiteral("sphereEpoch"));
  epoch_->setRange(1, 1);
  epoch_label_ = new QLabel(QStringLiteral("epoch –"));
  epoch_label_->setMinimumWidth(110);
  scrub->addWidget(epoch_, 1);
  scrub->addWidget(epoch_label_);
  layout->addLayout(scrub);

  auto* options = new QHBoxLayout;
  snapshots_ = new QCheckBox(QStringLiteral("Snapshots at"));
  snapshots_->setObjectName(QStringLiteral("sphereSnapshots"));
  snapshot_epochs_ = new QLineEdit(QStringLiteral("1, 5, 20, 70, 100"));
  snapshot_epochs_->setToolTip(QStringLiteral("epochs drawn side by side (small multiples)"));
  auto* reset = new QPushButton(QStringLiteral("Reset camera"));
  options->addWidget(snapshots_);
  options->addWidget(snapshot_epochs_, 1);
  options->addWidget(reset);
  layout->addLayout(options);
  stats_ = new QLabel;
  stats_->setObjectName(QStringLiteral("sphereStats"));
  stats_->setWordWrap(true);
  layout->addWidget(stats_);

  redraw_.setSingleShot(true);
  redraw_.setInterval(250);
  connect(&redraw_, &QTimer::timeout, this, &SphereDock::rebuild);
  connect(run_, &QComboBox::currentIndexChanged, this, [this] {
    if (updating_) return;
    follow_ = true;
    refreshChoices();
    schedule();
  });
  connect(compare_, &QComboBox::currentIndexChanged, this, [this] {
    if (!updating_) schedule();
  });
  connect(encoder_, &QComboBox::currentIndexChanged, this, [this] {
    if (!updating_) schedule();
  });
  connect(epoch_, &QSlider::valueChanged, this, [this](int v) {
    if (updating_) return;
    follow_ = v >= epoch_->maximum();
    schedule();
  });
  connect(snapshots_, &QCheckBox::toggled, this, [this] { schedule(); });
  connect(snapshot_epochs_, &QLineEdit::editingFinished, this, [this] { schedule(); });
  connect(reset, &QPushButton::clicked, view_, &viz::SphereView::resetCamera);
  rebuild();
}

void SphereDock::clear() {
  runs_.clear();
  refreshChoices();
  schedule();
}

void SphereDock::setRun(qint64 id, const QString& label, const std::vector<EpochRecord>& epochs,
                        const std::vector<EncoderFinal>&) {
  RunData d;
  d.label = label;
  for (const auto& e : epochs)
    for (const auto& ec : e.centres) {
      if (std::find(d.encoders.begin(), d.encoders.end(), ec.encoder) == d.encoders.end()) d.encoders.push_back(ec.encoder);
      d.centres[ec.encoder].push_back(ec.centres);
    }
  runs_[id] = std::move(d);
  runs_[id].label = label;
  refreshChoices();
  schedule();
}

void SphereDock::addEpoch(qint64 id, const EpochRecord& r) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return;
  for (const auto& ec : r.centres) {
    auto& list = it->second.centres[ec.encoder];
    if (std::find(it->second.encoders.begin(), it->second.encoders.end(), ec.encoder) == it->second.encoders.end())
      it->second.encoders.push_back(ec.encoder);
    if (static_cast<int>(list.size()) == r.epoch - 1) list.push_back(ec.centres);
  }
  if (id == currentRun()) {
    refreshChoices();
    schedule();
  }
}

qint64 SphereDock::currentRun() const { return run_->count() > 0 ? run_->currentData().toLongLong() : -1; }

int SphereDock::epochCount() const {
  const auto it = runs_.find(currentRun());
  if (it == runs_.end() || it->second.encoders.empty()) return 0;
  return static_cast<int>(it->second.centres.at(it->second.encoders.front()).size());
}

void SphereDock::showRun(qint64 id) {
  const int index = run_->findData(id);
  if (index >= 0) run_->setCurrentIndex(index);
}

void SphereDock::setCompare(qint64 id) {
  const int index = compare_->findData(id);
  compare_->setCurrentIndex(index >= 0 ? index : 0);
}

void SphereDock::setEncoderMode(const QString& mode) {
  const int index = encoder_->findText(mode);
  if (index >= 0) encoder_->setCurrentIndex(index);
}

void SphereDock::setSnapshots(bool on, const QString& epochs) {
  if (!epochs.isEmpty()) snapshot_epochs_->setText(epochs);
  snapshots_->setChecked(on);
  schedule();
}

void SphereDock::setEpoch(int epoch) {
  follow_ = epoch <= 0;
  if (epoch > 0) epoch_->setValue(epoch);
  schedule();
}

// Keeps the combo boxes and the slider in step with the runs we hold.
void SphereDock::refreshChoices() {
  updating_ = true;
  const qint64 current = currentRun();
  const qint64 compare = compare_->count() > 0 ? compare_->currentData().toLongLong() : -1;
  const QString mode = encoder_->currentText();
  run_->clear();
  compare_->clear();
  compare_->addItem(QStringLiteral("(none)"), qint64(-1));
  for (const auto& [id, d] : runs_) {
    run_->addItem(d.label, id);
    compare_->addItem(d.label, id);
  }
  int index = run_->findData(current);
  if (index < 0 && run_->count() > 0) index = run_->count() - 1;  // the newest
  run_->setCurrentIndex(index);
  compare_->setCurrentIndex(std::max(0, compare_->findData(compare)));
  encoder_->clear();
  const auto it = runs_.find(currentRun());
  if (it != runs_.end()) {
    for (const auto& e : it->second.encoders) encoder_->addItem(QString::fromStdString(e));
    if (it->second.encoders.size() > 1) encoder_->addItem(QStringLiteral("f | g"));
  }
  const int ei = encoder_->findText(mode);
  encoder_->setCurrentIndex(ei >= 0 ? ei : (encoder_->count() > 2 ? encoder_->count() - 1 : 0));
  const int epochs = epochCount();
  epoch_->setRange(std::min(1, std::max(epochs, 1)), std::max(epochs, 1));
  if (follow_) epoch_->setValue(std::max(epochs, 1));
  updating_ = false;
}

void SphereDock::schedule() {
  if (!redraw_.isActive()) redraw_.start();
}

void SphereDock::flushNow() {
  redraw_.stop();
  rebuild();
}

void SphereDock::rebuild() {
  viz::SphereFigure fig;
  const auto it = runs_.find(currentRun());
  if (it == runs_.end() || epochCount() == 0) {
    epoch_label_->setText(QStringLiteral("epoch –"));
    stats_->setText(QStringLiteral("No run with stored cluster centres selected."));
    view_->setFigure(fig);
    return;
  }
  const RunData& d = it->second;
  const int epochs = epochCount();
  const int epoch = follow_ ? epochs : std::clamp(epoch_->value(), 1, epochs);
  epoch_label_->setText(QStringLiteral("epoch %1 / %2").arg(epoch).arg(epochs));
  std::vector<std::string> encoders;
  const QString mode = encoder_->currentText();
  if (mode == QLatin1String("f | g")) encoders = d.encoders;
  else if (!mode.isEmpty()) encoders = {mode.toStdString()};
  else encoders = {d.encoders.front()};
  const qint64 compare = compare_->currentData().toLongLong();
  const auto other = runs_.find(compare);
  QString stats_text;
  auto stats_at = [&](const std::vector<std::vector<Vec3>>& c, int e) { return separation_stats(c[static_cast<std::size_t>(e - 1)]); };
  if (snapshots_->isChecked()) {
    std::vector<int> chosen;
    for (const auto& part : snapshot_epochs_->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
      bool ok = false;
      const int e = part.trimmed().toInt(&ok);
      if (ok && e >= 1 && e <= epoch) chosen.push_back(e);
    }
    if (chosen.empty() || chosen.back() != epoch) chosen.push_back(epoch);
    fig.columns = static_cast<int>(chosen.size());
    for (const auto& enc : encoders) {
      const auto& c = d.centres.at(enc);
      for (int e : chosen) {
        viz::SpherePanel p;
        p.title = QStringLiteral("%1 %2 — epoch %3").arg(d.label, QString::fromStdString(enc)).arg(e).toStdString();
        p.runs.push_back({d.label.toStdString(), c, false});
        p.upto_epoch = e;
        p.legend = e == chosen.back();
        p.stats = stats_at(c, e);
        fig.panels.push_back(std::move(p));
      }
    }
  } else {
    for (const auto& enc : encoders) {
      const auto& c = d.centres.at(enc);
      viz::SpherePanel p;
      p.title = QStringLiteral("%1 — encoder %2").arg(d.label, QString::fromStdString(enc)).toStdString();
      p.runs.push_back({d.label.toStdString(), c, false});
      if (other != runs_.end() && other->first != it->first) {
        const auto& oc = other->second.centres.count(enc) ? other->second.centres.at(enc)
                                                          : other->second.centres.begin()->second;
        p.runs.push_back({other->second.label.toStdString(), oc, true});
      }
      p.upto_epoch = epoch;
      p.stats = stats_at(c, epoch);
      stats_text += QStringLiteral("%1: NN angle mean %2°, min %3°, max %4°, SD %5°   ")
                        .arg(QString::fromStdString(enc))
                        .arg(p.stats->mean, 0, 'f', 1)
                        .arg(p.stats->min, 0, 'f', 1)
                        .arg(p.stats->max, 0, 'f', 1)
                        .arg(p.stats->sd, 0, 'f', 1);
      fig.panels.push_back(std::move(p));
    }
  }
  stats_->setText(stats_text + QStringLiteral("(optimum min 90°: triangular bipyramid)"));
  view_->setFigure(fig);
}

}  // namespace ssrl::ui
