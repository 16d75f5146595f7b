#include "calibration_dialog.hpp"

#include <QCheckBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPointer>
#include <QGuiApplication>
#include <QPushButton>
#include <QScreen>
#include <QVBoxLayout>
#include <QtCharts/QChartView>

#include <algorithm>

#include "ssrl/viz/calibration_figure.hpp"

namespace ssrl::ui {

CalibrationDialog::CalibrationDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(QStringLiteral("MI estimator calibration"));
  auto* outer = new QVBoxLayout(this);
  auto* intro = new QLabel(QStringLiteral(
      "Each estimator against the quantity it bounds, on pairs whose dependence is known: von Mises–Fisher pairs "
      "on the sphere (circles; the cosine critic is optimal at t = 1/κ) and correlated Gaussians (squares). "
      "Dotted lines: InfoNCE's ceiling log N."));
  intro->setWordWrap(true);
  outer->addWidget(intro);
  auto* row = new QHBoxLayout;
  full_ = new QCheckBox(QStringLiteral("Full grid (a few minutes)"));
  full_->setObjectName(QStringLiteral("calibration_full"));
  run_ = new QPushButton(QStringLiteral("Run"));
  run_->setObjectName(QStringLiteral("calibration_run"));
  save_ = new QPushButton(QStringLiteral("Save figure…"));
  save_->setObjectName(QStringLiteral("calibration_save"));
  save_->setEnabled(false);
  status_ = new QLabel;
  status_->setObjectName(QStringLiteral("calibration_status"));
  row->addWidget(full_);
  row->addWidget(run_);
  row->addWidget(save_);
  row->addWidget(status_, 1);
  outer->addLayout(row);
  grid_ = new QGridLayout;
  for (int c = 0; c < 3; ++c) grid_->setColumnStretch(c, 1);  // six equal panels
  for (int r = 0; r < 2; ++r) grid_->setRowStretch(r, 1);
  outer->addLayout(grid_, 1);
  connect(run_, &QPushButton::clicked, this, [this] { start(!full_->isChecked()); });
  connect(save_, &QPushButton::clicked, this, &CalibrationDialog::save_figure);
  // Six panels at 200 x 160 at least; never larger than the screen.
  const QScreen* screen = parent != nullptr && parent->screen() != nullptr ? parent->screen() : QGuiApplication::primaryScreen();
  const QSize area = screen != nullptr ? screen->availableGeometry().size() : QSize(1280, 768);
  resize(std::min(1200, area.width() - 16), std::min(720, area.height() - 48));
}

CalibrationDialog::~CalibrationDialog() {
  if (worker_.joinable()) worker_.join();  // the calibration cannot be cancelled midway; a quick one takes seconds
}

void CalibrationDialog::start(bool quick) {
  if (running_) return;
  if (worker_.joinable()) worker_.join();
  running_ = true;
  run_->setEnabled(false);
  status_->setText(QStringLiteral("calibrating…"));
  CalibrationOptions opt;
  if (quick) {
    opt.gaussian_rho = {0.9, 0.99};
    opt.vmf_kappa = {4, 64};
    opt.sizes = {64, 512};
    opt.repeats = 3;
  }
  QPointer<CalibrationDialog> self(this);
  worker_ = std::thread([self, opt] {
    std::vector<CalibrationRow> rows;
    QString error;
    try {
      rows = run_mi_calibration(opt);
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
    }
    QMetaObject::invokeMethod(
        self.data(),
        [self, rows = std::move(rows), error]() mutable {
          if (!self) return;
          self->running_ = false;
          self->run_->setEnabled(true);
          if (!error.isEmpty()) self->status_->setText(QStringLiteral("failed: %1").arg(error));
          else self->show_rows(std::move(rows));
          Q_EMIT self->finished();
        },
        Qt::QueuedConnection);
  });
}

void CalibrationDialog::show_rows(std::vector<CalibrationRow> rows) {
  rows_ = std::move(rows);
  charts_ = viz::calibration_charts(rows_);
  for (std::size_t i = 0; i < charts_.size(); ++i) {
    charts_[i]->setMinimumSize(200, 160);
    grid_->addWidget(charts_[i].get(), static_cast<int>(i / 3), static_cast<int>(i % 3));
    charts_[i]->show();  // children added to a visible dialog stay hidden until shown
  }
  status_->setText(QStringLiteral("%1 cells").arg(rows_.size()));
  save_->setEnabled(true);
}

void CalibrationDialog::save_figure() {
  const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Save the calibration figure"),
                                                    QStringLiteral("mi-calibration.svg"),
                                                    QStringLiteral("SVG (*.svg);;PNG (*.png)"));
  if (path.isEmpty()) return;
  try {
    viz::write_calibration_figure(rows_, path.toStdString(), viz::FigureOptions{});
    status_->setText(QStringLiteral("saved %1").arg(path));
  } catch (const std::exception& e) {
    status_->setText(QStringLiteral("not saved: %1").arg(QString::fromUtf8(e.what())));
  }
}

}  // namespace ssrl::ui
