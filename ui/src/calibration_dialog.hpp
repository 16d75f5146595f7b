#pragma once
// Tools > MI estimator calibration: runs `reproduce mi-calibration` on a
// worker thread and shows its six panels; the figure and tables can be saved.

#include <QDialog>

#include <memory>
#include <thread>
#include <vector>

#include "ssrl/calibration.hpp"

class QCheckBox;
class QGridLayout;
class QLabel;
class QPushButton;
class QChartView;

namespace ssrl::ui {

class CalibrationDialog : public QDialog {
  Q_OBJECT
 public:
  explicit CalibrationDialog(QWidget* parent = nullptr);
  ~CalibrationDialog() override;

  // Starts a calibration (quick: a few cells in seconds; else the reference grid).
  void start(bool quick);
  bool running() const { return running_; }
  const std::vector<CalibrationRow>& rows() const { return rows_; }
  int chartCount() const { return static_cast<int>(charts_.size()); }

 Q_SIGNALS:
  void finished();

 private:
  void show_rows(std::vector<CalibrationRow> rows);
  void save_figure();

  QLabel* status_ = nullptr;
  QCheckBox* full_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* save_ = nullptr;
  QGridLayout* grid_ = nullptr;
  std::vector<std::unique_ptr<QChartView>> charts_;
  std::vector<CalibrationRow> rows_;
  std::thread worker_;
  bool running_ = false;
};

}  // namespace ssrl::ui
