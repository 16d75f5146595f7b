#pragma once
// The workbench window: run setup on the left, live charts in the middle,
// the run queue and the run browser below.

#include <QLabel>
#include <QMainWindow>
#include <QRect>
#include <QSize>
#include <QString>

#include <set>

#include "metatypes.hpp"

class QDockWidget;
class QThread;

namespace ssrl::ui {

class CalibrationDialog;
class ChartsPanel;
class RunBrowser;
class RunQueue;
class SetupPanel;
class SphereDock;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(const QString& db_path, QWidget* parent = nullptr);
  ~MainWindow() override;

  SetupPanel* setup() const { return setup_; }
  RunQueue* queue() const { return queue_; }
  RunBrowser* browser() const { return browser_; }
  ChartsPanel* charts() const { return charts_; }
  SphereDock* sphere() const { return sphere_; }
  QString database() const { return db_path_; }

  // The same code paths as the menu entries, for scripts and tests.
  bool exportCharts(const QString& path, QSize size, QString* error = nullptr);
  bool exportTable(const QString& path, QString* error = nullptr);
  bool openDatabase(const QString& path);
  // Tools > MI estimator calibration.
  CalibrationDialog* openCalibration();
  // The screen area the window must fit in.
  QRect availableArea() const;

 Q_SIGNALS:
  // LibTorch is loaded (or failed to load: the status bar says so).
  void engineReady();

 public Q_SLOTS:
  void addToQueue();
  void showError(const QString& message);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void showEvent(QShowEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void buildMenus();
  void rebuildCharts();
  void loadSettings();
  void saveSettings();
  void defaultLayout(QDockWidget* setup_dock, QDockWidget* sphere_dock);
  void bringOnScreen();
  void loadEngine();

  // Room for a window manager's title bar and borders before the frame is known.
  static constexpr QSize kFrameAllowance{16, 48};

  QString db_path_;
  SetupPanel* setup_ = nullptr;
  RunQueue* queue_ = nullptr;
  RunBrowser* browser_ = nullptr;
  ChartsPanel* charts_ = nullptr;
  SphereDock* sphere_ = nullptr;
  CalibrationDialog* calibration_ = nullptr;
  QLabel* device_ = nullptr;
  QLabel* epoch_ = nullptr;
  QThread* engine_loader_ = nullptr;
  std::set<qint64> live_;
  bool placed_ = false;  // runs of this session, drawn whatever the selection
};

}  // namespace ssrl::ui
