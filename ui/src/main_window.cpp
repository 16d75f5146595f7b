#include "main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTextStream>
#include <QThread>
#include <QTimer>

#include <algorithm>

#include "calibration_dialog.hpp"
#include "charts_panel.hpp"
#include "run_browser.hpp"
#include "run_queue.hpp"
#include "setup_panel.hpp"
#include "sphere_dock.hpp"
#include "ssrl/engine.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/output_file.hpp"
#include "ssrl/methods.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/storage/report.hpp"
#include "ssrl/trainer.hpp"
#include "ssrl/viz/chart_export.hpp"
#include "ssrl/viz/metric_chart.hpp"

namespace ssrl::ui {
namespace {

// Errors go to a dialog and to workbench.log beside the default database.
void append_log(const QString& message) {
  const QString dir = QFileInfo(QString::fromStdString(storage::Database::default_path())).absolutePath();
  QDir().mkpath(dir);
  QFile f(dir + QStringLiteral("/workbench.log"));
  if (f.open(QIODevice::Append | QIODevice::Text)) {
    QTextStream(&f) << QDateTime::currentDateTimeUtc().toString(Qt::ISODate) << "  " << message << "\n";
  }
  qWarning("%s", qUtf8Printable(message));
}

}  // namespace

MainWindow::MainWindow(const QString& db_path, QWidget* parent) : QMainWindow(parent), db_path_(db_path) {
  register_metatypes();
  setObjectName(QStringLiteral("workbench"));
  setWindowTitle(QStringLiteral("SSRL Workbench — %1").arg(db_path_));

  setDockOptions(AnimatedDocks | AllowTabbedDocks | AllowNestedDocks);
  // The charts keep a legible minimum size and scroll on a small screen.
  charts_ = new ChartsPanel;
  auto* charts_scroll = new QScrollArea;
  charts_scroll->setObjectName(QStringLiteral("chartsScroll"));
  charts_scroll->setWidgetResizable(true);
  charts_scroll->setFrameShape(QFrame::NoFrame);
  charts_scroll->setWidget(charts_);
  setCentralWidget(charts_scroll);

  setup_ = new SetupPanel;
  auto* setup_dock = new QDockWidget(QStringLiteral("Run setup"));
  setup_dock->setObjectName(QStringLiteral("setupDock"));
  setup_dock->setWidget(setup_);
  addDockWidget(Qt::LeftDockWidgetArea, setup_dock);

  queue_ = new RunQueue(db_path_);
  auto* queue_dock = new QDockWidget(QStringLiteral("Queue"));
  queue_dock->setObjectName(QStringLiteral("queueDock"));
  queue_dock->setWidget(queue_);
  addDockWidget(Qt::BottomDockWidgetArea, queue_dock);

  sphere_ = new SphereDock;
  auto* sphere_dock = new QDockWidget(QStringLiteral("Unit sphere"));
  sphere_dock->setObjectName(QStringLiteral("sphereDock"));
  sphere_dock->setWidget(sphere_);
  addDockWidget(Qt::RightDockWidgetArea, sphere_dock);

  browser_ = new RunBrowser;
  auto* browser_dock = new QDockWidget(QStringLiteral("Runs"));
  browser_dock->setObjectName(QStringLiteral("runsDock"));
  browser_dock->setWidget(browser_);
  addDockWidget(Qt::BottomDockWidgetArea, browser_dock);
  tabifyDockWidget(queue_dock, browser_dock);
  queue_dock->raise();

  device_ = new QLabel;
  device_->setObjectName(QStringLiteral("deviceLabel"));
  epoch_ = new QLabel;
  statusBar()->addPermanentWidget(epoch_);
  statusBar()->addPermanentWidget(device_);
  device_->setText(QStringLiteral("device: … · loading LibTorch"));

  connect(setup_, &SetupPanel::addRequested, this, &MainWindow::addToQueue);
  connect(browser_, &RunBrowser::selectionChanged, this, &MainWindow::rebuildCharts);
  connect(browser_, &RunBrowser::errorOccurred, this, &MainWindow::showError);
  connect(queue_, &RunQueue::runFailed, this, &MainWindow::showError);
  connect(queue_, &RunQueue::progressText, epoch_, &QLabel::setText);
  connect(queue_, &RunQueue::runStarted, this, [this](qint64 run_id, const RunConfig& cfg, const QString& device) {
    live_.insert(run_id);
    const MethodInfo& info = find_method(cfg.method);
    const QString label = QStringLiteral("%1 #%2").arg(QString::fromStdString(cfg.method)).arg(run_id);
    charts_->addRun(run_id, label, info.paradigm == Paradigm::SDMI, info.base == "sdmi", is_image_data(cfg.dataset),
                    cfg.epochs);
    sphere_->setRun(run_id, label, {}, {});
    sphere_->showRun(run_id);
    device_->setText(QStringLiteral("device: %1 · LibTorch %2").arg(device, QString::fromStdString(torch_version())));
    browser_->reload();
  });
  connect(queue_, &RunQueue::runEpoch, charts_, &ChartsPanel::addEpoch);
  connect(queue_, &RunQueue::runEpoch, sphere_, &SphereDock::addEpoch);
  connect(queue_, &RunQueue::runFinished, this, [this](qint64 run_id, const RunOutcome& out) {
    statusBar()->showMessage(QStringLiteral("run %1 %2").arg(run_id).arg(QString::fromLatin1(status_name(out.status))), 8000);
    browser_->reload();
  });

  buildMenus();
  defaultLayout(setup_dock, sphere_dock);
  loadSettings();
  browser_->setDatabase(db_path_);
  // Start with the newest stored run on the charts.
  if (browser_->selectedRuns().empty()) {
    const auto runs = browser_->visibleRuns();
    if (!runs.empty()) browser_->selectRuns({runs.back().id});
  }
}

MainWindow::~MainWindow() {
  // The loader reports to device_, a child deleted after this.
  if (engine_loader_ != nullptr) engine_loader_->wait();
}

void MainWindow::loadEngine() {
  if (engine_loader_ != nullptr) return;
  // LibTorch loads in the background while the window is already usable; a
  // run queued before it is ready waits for it in the worker (load_engine
  // blocks a second caller until the first is done).
  engine_loader_ = QThread::create([this] {
    QString text;
    try {
      load_engine();
      text = QStringLiteral("device: %1 · LibTorch %2")
                 .arg(QString::fromStdString(resolve_device("auto")), QString::fromStdString(torch_version()));
    } catch (const std::exception& e) {
      text = QStringLiteral("LibTorch not loaded: runs cannot train");
      const QString why = QString::fromUtf8(e.what());
      QMetaObject::invokeMethod(device_, [this, why] { device_->setToolTip(why); }, Qt::QueuedConnection);
    }
    QMetaObject::invokeMethod(device_, [this, text] {
      device_->setText(text);
      Q_EMIT engineReady();
    }, Qt::QueuedConnection);
  });
  engine_loader_->setParent(this);
  engine_loader_->start(QThread::LowPriority);
}

QRect MainWindow::availableArea() const {
  const QScreen* s = screen() != nullptr ? screen() : QGuiApplication::primaryScreen();
  return s != nullptr ? s->availableGeometry() : QRect(0, 0, 1600, 1000);
}

// 1600 x 950 where the screen holds it; on a smaller screen (a laptop at 150 %,
// a projector) the whole available area less room for the title bar, with the
// sphere tabbed beside the run setup so the charts keep their width.
void MainWindow::defaultLayout(QDockWidget* setup_dock, QDockWidget* sphere_dock) {
  const QRect area = availableArea();
  const QSize size(std::min(1600, area.width() - kFrameAllowance.width()),
                   std::min(950, area.height() - kFrameAllowance.height()));
  resize(size);
  if (size.width() < 1400) {
    tabifyDockWidget(setup_dock, sphere_dock);
    setup_dock->raise();
    resizeDocks({setup_dock}, {std::max(300, size.width() / 4)}, Qt::Horizontal);
  } else {
    // The sphere gets a quarter of the width (it had its minimum, ~330 px):
    // two panels side by side (f | g) stay legible, three chart columns fit.
    resizeDocks({sphere_dock}, {std::max(420, size.width() / 4)}, Qt::Horizontal);
  }
}

// Saved geometry from a larger screen, or a screen no longer attached, is
// shrunk and moved so the whole frame is visible.
void MainWindow::bringOnScreen() {
  const QRect area = availableArea();
  const QRect frame = frameGeometry();
  if (area.contains(frame)) return;
  const QSize margins = frame.size() - geometry().size();
  const QSize inner(std::min(width(), area.width() - margins.width()), std::min(height(), area.height() - margins.height()));
  resize(inner.expandedTo(minimumSizeHint().boundedTo(area.size() - margins)));
  const QSize outer = size() + margins;
  move(std::clamp(frame.left(), area.left(), std::max(area.left(), area.right() + 1 - outer.width())),
       std::clamp(frame.top(), area.top(), std::max(area.top(), area.bottom() + 1 - outer.height())));
}

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  // The frame is known once the window manager has placed the window.
  if (!placed_) {
    placed_ = true;
    bringOnScreen();
    QTimer::singleShot(0, this, &MainWindow::bringOnScreen);
  }
}

bool MainWindow::event(QEvent* event) {
  // After the first frame, not before: the loader holds the dynamic linker's
  // lock, which the window's first paint needs too (OpenGL drivers for VTK).
  if (event->type() == QEvent::Paint && engine_loader_ == nullptr) QTimer::singleShot(0, this, &MainWindow::loadEngine);
  return QMainWindow::event(event);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(QStringLiteral("&File"));
  file->addAction(QStringLiteral("&Open database…"), QKeySequence::Open, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Open database"), QFileInfo(db_path_).absolutePath(),
                                                      QStringLiteral("SQLite databases (*.db *.sqlite);;All files (*)"));
    if (!path.isEmpty()) openDatabase(path);
  });
  file->addAction(QStringLiteral("&Export charts…"), QKeySequence(QStringLiteral("Ctrl+E")), this, [this] {
    QDialog dialog(this);
    dialog.setWindowTitle(QStringLiteral("Export charts"));
    auto* form = new QFormLayout(&dialog);
    auto* path = new QLineEdit(QDir::home().filePath(QStringLiteral("ssrl-charts.png")));
    auto* browse = new QPushButton(QStringLiteral("…"));
    auto* row = new QHBoxLayout;
    row->addWidget(path);
    row->addWidget(browse);
    form->addRow(QStringLiteral("File (.png or .svg)"), row);
    auto* w = new QSpinBox;
    w->setRange(200, 12000);
    w->setValue(1800);
    auto* h = new QSpinBox;
    h->setRange(150, 12000);
    h->setValue(1000);
    form->addRow(QStringLiteral("Width (px)"), w);
    form->addRow(QStringLiteral("Height (px)"), h);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
    form->addRow(buttons);
    connect(browse, &QPushButton::clicked, &dialog, [&] {
      const QString p = QFileDialog::getSaveFileName(&dialog, QStringLiteral("Export charts"), path->text(),
                                                     QStringLiteral("PNG image (*.png);;SVG drawing (*.svg)"));
      if (!p.isEmpty()) path->setText(p);
    });
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted) return;
    QString error;
    if (exportCharts(path->text(), QSize(w->value(), h->value()), &error))
      statusBar()->showMessage(QStringLiteral("wrote %1").arg(path->text()), 8000);
    else
      showError(error);
  });
  file->addAction(QStringLiteral("Export &table…"), QKeySequence(QStringLiteral("Ctrl+Shift+E")), this, [this] {
    const QString path = QFileDialog::getSaveFileName(
        this, QStringLiteral("Export table"), QDir::home().filePath(QStringLiteral("ssrl-table.csv")),
        QStringLiteral("CSV (*.csv);;Markdown (*.md);;LaTeX (*.tex)"));
    if (path.isEmpty()) return;
    QString error;
    if (exportTable(path, &error)) statusBar()->showMessage(QStringLiteral("wrote %1").arg(path), 8000);
    else showError(error);
  });
  file->addSeparator();
  file->addAction(QStringLiteral("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* run = menuBar()->addMenu(QStringLiteral("&Run"));
  auto* add = run->addAction(QStringLiteral("&Add to queue"), QKeySequence(QStringLiteral("Ctrl+Return")), this,
                             &MainWindow::addToQueue);
  add->setEnabled(setup_->config().has_value());
  connect(setup_, &SetupPanel::validityChanged, add, &QAction::setEnabled);
  run->addAction(QStringLiteral("&Start queue"), QKeySequence(QStringLiteral("F5")), queue_, &RunQueue::start);
  run->addAction(QStringLiteral("&Pause / resume"), QKeySequence(QStringLiteral("F6")), queue_, &RunQueue::togglePause);
  run->addAction(QStringLiteral("S&top"), QKeySequence(QStringLiteral("Shift+F5")), queue_, &RunQueue::stop);

  QMenu* view = menuBar()->addMenu(QStringLiteral("&View"));
  for (auto* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
  view->addAction(QStringLiteral("&Refresh runs"), QKeySequence::Refresh, browser_, &RunBrowser::reload);

  QMenu* tools = menuBar()->addMenu(QStringLiteral("&Tools"));
  tools->addAction(QStringLiteral("MI estimator &calibration…"), this, [this] { openCalibration(); });
}

CalibrationDialog* MainWindow::openCalibration() {
  if (calibration_ == nullptr) calibration_ = new CalibrationDialog(this);
  calibration_->show();
  calibration_->raise();
  return calibration_;
}

void MainWindow::addToQueue() {
  const auto cfg = setup_->config();
  if (!cfg) {
    statusBar()->showMessage(setup_->error(), 8000);
    return;
  }
  queue_->add(*cfg);
  statusBar()->showMessage(QStringLiteral("queued %1 (seed %2, %3 epochs)")
                               .arg(QString::fromStdString(cfg->method))
                               .arg(cfg->seed)
                               .arg(cfg->epochs),
                           5000);
}

void MainWindow::rebuildCharts() {
  charts_->clear();
  sphere_->clear();
  std::set<qint64> ids(live_);
  for (auto id : browser_->selectedRuns()) ids.insert(id);
  if (ids.empty() || !QFileInfo::exists(db_path_)) return;
  try {
    storage::Database db(db_path_.toStdString(), storage::Database::Mode::ReadOnly);
    for (auto id : ids) {
      const auto d = db.load_run(id);
      if (!d) continue;
      const QString label = QStringLiteral("%1 #%2").arg(QString::fromStdString(d->run.method)).arg(id);
      charts_->addRun(id, label, d->run.paradigm == "SDMI", d->run.base_method == "sdmi", is_image_data(d->run.dataset));
      charts_->addEpochs(id, d->epochs);
      sphere_->setRun(id, label, d->epochs, d->finals);
    }
  } catch (const Error& e) {
    showError(QString::fromUtf8(e.what()));
  }
}

bool MainWindow::exportCharts(const QString& path, QSize size, QString* error) {
  charts_->flush();
  const auto list = charts_->shownCharts();
  std::vector<QChartView*> views(list.begin(), list.end());
  return viz::export_charts(views, views.size() > 6 ? 4 : 3, path, size, error);
}

bool MainWindow::exportTable(const QString& path, QString* error) {
  auto runs = browser_->visibleRuns();
  const auto selected = browser_->selectedRuns();
  if (!selected.empty())
    runs.erase(std::remove_if(runs.begin(), runs.end(),
                              [&](const auto& r) { return std::find(selected.begin(), selected.end(), r.id) == selected.end(); }),
               runs.end());
  const QString suffix = QFileInfo(path).suffix().toLower();
  const std::string format = suffix == QLatin1String("md") ? "markdown" : suffix == QLatin1String("tex") ? "latex" : suffix.toStdString();
  try {
    // Gaussian runs: the separation table; image runs: the probe table; both
    // when the selection mixes them.
    std::vector<storage::RunRow> gaussian, image;
    for (const auto& r : runs) (is_image_data(r.dataset) ? image : gaussian).push_back(r);
    const auto table_format = storage::parse_table_format(format);
    std::string text;
    if (!gaussian.empty() || image.empty()) text = storage::render(storage::separation_table(gaussian), table_format);
    if (!image.empty()) text += (text.empty() ? "" : "\n") + storage::render(storage::probe_table(image), table_format);
    write_output_file(path.toStdString(), text);
    return true;
  } catch (const Error& e) {
    if (error != nullptr) *error = QString::fromUtf8(e.what());
    return false;
  }
}

bool MainWindow::openDatabase(const QString& path) {
  if (queue_->busy()) {
    showError(QStringLiteral("A run is in progress; stop it before opening another database."));
    return false;
  }
  try {
    storage::Database probe(path.toStdString());  // creates or migrates; refuses foreign files
  } catch (const Error& e) {
    showError(QString::fromUtf8(e.what()));
    return false;
  }
  db_path_ = path;
  queue_->setDatabase(path);
  live_.clear();
  browser_->setDatabase(path);
  rebuildCharts();
  setWindowTitle(QStringLiteral("SSRL Workbench — %1").arg(db_path_));
  return true;
}

void MainWindow::showError(const QString& message) {
  append_log(message);
  auto* box = new QMessageBox(QMessageBox::Warning, QStringLiteral("SSRL Workbench"), message, QMessageBox::Ok, this);
  box->setObjectName(QStringLiteral("errorDialog"));
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();
}

void MainWindow::loadSettings() {
  QSettings s;
  restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(s.value(QStringLiteral("window/state")).toByteArray());
  if (!isVisible()) bringOnScreen();
  const QString setup = s.value(QStringLiteral("setup/last")).toString();
  if (!setup.isEmpty()) setup_->restoreState(setup);
}

void MainWindow::saveSettings() {
  QSettings s;
  s.setValue(QStringLiteral("window/geometry"), saveGeometry());
  s.setValue(QStringLiteral("window/state"), saveState());
  s.setValue(QStringLiteral("setup/last"), setup_->saveState());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (queue_->busy()) {
    const auto answer = QMessageBox::question(this, QStringLiteral("Quit"),
                                              QStringLiteral("A run is in progress. Stop it (it is stored as interrupted) and quit?"),
                                              QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes) {
      event->ignore();
      return;
    }
  }
  saveSettings();
  event->accept();
}

}  // namespace ssrl::ui
