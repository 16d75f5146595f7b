#pragma once
// The workbench window: the runs stored in the database and their MI curves.

#include <QMainWindow>

#include <string>

class QComboBox;
class QTableWidget;
class QLabel;

namespace ssrl::viz {
class MiChartView;
}

namespace ssrl::ui {

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(std::string db_path, QWidget* parent = nullptr);

 public Q_SLOTS:
  void reload();
  void updateChart();

 private:
  std::string db_path_;
  QTableWidget* table_ = nullptr;
  QComboBox* estimator_ = nullptr;
  viz::MiChartView* chart_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace ssrl::ui
