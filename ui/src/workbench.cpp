#include "ssrl/ui/workbench.hpp"

#include <QApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QSurfaceFormat>
#include <QTemporaryDir>
#include <QTimer>
#include <QWindow>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <unistd.h>

#include "main_window.hpp"
#include "metatypes.hpp"
#include "run_queue.hpp"
#include "sphere_dock.hpp"
#include "ssrl/viz/sphere_view.hpp"
#include "ssrl/config.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/runner/runner.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::ui {

std::string display_problem();  // display.cpp: kept apart from Xlib's macros

void register_metatypes() {
  qRegisterMetaType<ssrl::RunConfig>();
  qRegisterMetaType<ssrl::EpochRecord>();
  qRegisterMetaType<ssrl::RunOutcome>();
}

namespace {

void prepare_application() {
  // VTK's OpenGL2 backend needs a 3.2 core context; ask before QApplication.
  QSurfaceFormat fmt;
  fmt.setVersion(3, 2);
  fmt.setProfile(QSurfaceFormat::CoreProfile);
  fmt.setDepthBufferSize(24);
  fmt.setSwapInterval(0);  // never block the GUI thread on a (virtual) vertical retrace
  QSurfaceFormat::setDefaultFormat(fmt);
  QApplication::setApplicationName(QStringLiteral("SSRL Workbench"));
  QApplication::setOrganizationName(QStringLiteral("ssrl-workbench"));
  QGuiApplication::setDesktopFileName(QStringLiteral("io.github.ssrl_workbench.SsrlWorkbench"));  // the menu entry
}

// `bench startup` (app/cmd_bench_startup.cpp) runs the window with
// SSRL_STARTUP_REPORT=<fd>: it writes "window" to that pipe after its first
// paint and "engine" once LibTorch is loaded, then quits.
class StartupReport : public QObject {
 public:
  StartupReport(int fd, MainWindow* window) : QObject(window), fd_(fd) {
    window->installEventFilter(this);
    connect(window, &MainWindow::engineReady, this, [this] {
      say("engine\n");
      engine_ = true;
      finish();
    });
  }
  bool eventFilter(QObject*, QEvent* event) override {
    if (event->type() == QEvent::Paint && !painted_) {
      painted_ = true;
      QTimer::singleShot(0, this, [this] {  // after this paint is on screen
        say("window\n");
        shown_ = true;
        finish();
      });
    }
    return false;
  }

 private:
  void say(const char* what) const {
    if (::write(fd_, what, std::strlen(what)) < 0) QCoreApplication::exit(1);
  }
  void finish() const {
    if (shown_ && engine_) QCoreApplication::quit();
  }
  int fd_;
  bool painted_ = false, shown_ = false, engine_ = false;
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Qt aborts the process when it finds no display; say why and exit instead.
bool have_display() {
  auto set = [](const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0';
  };
  if (set("DISPLAY") || set("WAYLAND_DISPLAY")) return true;
  const char* platform = std::getenv("QT_QPA_PLATFORM");
  return platform != nullptr && *platform != '\0' && std::string(platform).rfind("xcb", 0) != 0 &&
         std::string(platform).rfind("wayland", 0) != 0;
}

int no_display(const char* what) {
  std::fprintf(stderr,
               "error: %s needs a display, and there is none (DISPLAY and WAYLAND_DISPLAY are unset).\n"
               "Every command works without one (ssrl-workbench --help); for the window use a desktop session, "
               "ssh -X, or xvfb-run -a ssrl-workbench.\n",
               what);
  return 1;
}

}  // namespace

int run_workbench(int argc, char** argv, const std::string& db_path) {
  if (!have_display()) return no_display("the window");
  if (const auto why = display_problem(); !why.empty()) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    return 1;
  }
  prepare_application();
  QApplication app(argc, argv);
  MainWindow window(QString::fromStdString(db_path));
  if (const char* fd = std::getenv("SSRL_STARTUP_REPORT"); fd != nullptr && *fd != '\0')
    new StartupReport(std::atoi(fd), &window);
  window.show();
  return QApplication::exec();
}

int run_gui_benchmark(int argc, char** argv, const std::string&, const GuiBenchOptions& opt) {
  if (!have_display()) return no_display("bench gui");
  if (const auto why = display_problem(); !why.empty()) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    return 1;
  }
  prepare_application();
  QApplication app(argc, argv);
  // Benchmark runs go to a scratch database, never the user's.
  QTemporaryDir scratch;
  const std::string db_path = scratch.filePath(QStringLiteral("bench.db")).toStdString();
  ConfigBuilder b(opt.method);
  b.set("epochs", std::to_string(opt.epochs));
  const RunConfig cfg = b.build();

  std::printf("%-10s %-8s %7s %12s %10s %10s %10s %10s\n", "mode", "method", "epochs", "train s", "lag p50", "lag p99",
              "lag max", "ticks");
  for (int rep = 0; rep < opt.repeats; ++rep) {
    // Headless: the same run on a plain thread, no window.
    {
      const auto t0 = std::chrono::steady_clock::now();
      std::thread t([&] {
        storage::Database db(db_path);
        RunConfig headless = cfg;
        headless.name = "bench-headless";
        runner::Runner(db).run(headless, "");
      });
      t.join();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%-10s %-8s %7d %12.2f %10s %10s %10s %10s\n", "headless", opt.method.c_str(), opt.epochs, s, "-", "-", "-", "-");
      std::fflush(stdout);
    }
    // Through the window: queue, live charts, browser updates.
    MainWindow window(QString::fromStdString(db_path));
    QElapsedTimer shown;
    shown.start();
    window.show();
    // The lag is measured while the run trains; the window's first paints
    // (the sphere's OpenGL set-up among them) are start-up, reported apart.
    while (!window.windowHandle()->isExposed() && shown.elapsed() < 30000)
      QApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    QApplication::processEvents();
    const double first_paint_ms = shown.nsecsElapsed() / 1e6;
    std::vector<double> lag_ms;
    std::vector<double> lag_at_s;  // when each lag happened, from the run's start
    QElapsedTimer clock;
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(10);
    qint64 last = -1;
    QObject::connect(&tick, &QTimer::timeout, [&] {
      const qint64 now = clock.nsecsElapsed();
      if (last >= 0) {
        lag_ms.push_back(std::max(0.0, (now - last) / 1e6 - 10.0));
        lag_at_s.push_back(now / 1e9);
      }
      last = now;
    });
    double train_s = 0;
    std::vector<double> sphere_ms;
    QObject::connect(window.queue(), &RunQueue::runEpoch, [&] {
      const double ms = window.sphere()->view()->lastRenderMs();
      if (ms > 0) sphere_ms.push_back(ms);
    });
    QElapsedTimer run_clock;
    QObject::connect(window.queue(), &RunQueue::runStarted, [&] { run_clock.start(); });
    QObject::connect(window.queue(), &RunQueue::runFinished, [&] {
      train_s = run_clock.nsecsElapsed() / 1e9;
      tick.stop();
      QTimer::singleShot(300, &app, &QApplication::quit);
    });
    window.queue()->add(cfg);
    clock.start();
    tick.start();
    window.queue()->start();
    QApplication::exec();
    std::printf("%-10s %-8s %7d %12.2f %10.2f %10.2f %10.2f %10zu   sphere render median %.1f ms\n", "window",
                opt.method.c_str(), opt.epochs, train_s, percentile(lag_ms, 0.5), percentile(lag_ms, 0.99),
                percentile(lag_ms, 1.0), lag_ms.size(), percentile(sphere_ms, 0.5));
    const auto worst = std::max_element(lag_ms.begin(), lag_ms.end());
    if (worst != lag_ms.end())
      std::printf("%-10s window shown and painted in %.0f ms; the longest lag ended %.2f s into the run\n", "",
                  first_paint_ms, lag_at_s[static_cast<std::size_t>(worst - lag_ms.begin())]);
    std::fflush(stdout);
  }
  std::printf("lag: how late a 10 ms timer fired in the GUI thread while the run trained (ms);\n"
              "both modes store every epoch in a scratch database.\n");
  return 0;
}

}  // namespace ssrl::ui
