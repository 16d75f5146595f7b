// The workbench window driven through its widgets, under xvfb-run: configure
// a Gaussian run, train it, watch the charts, stop a run, refuse bad input,
// export. Screenshots land in the build tree for a person to look at.
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSignalSpy>
#include <QtCharts/QChartView>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include "calibration_dialog.hpp"
#include "charts_panel.hpp"
#include "core/image_files.hpp"
#include "main_window.hpp"
#include "run_browser.hpp"
#include "run_queue.hpp"
#include "setup_panel.hpp"
#include "sphere_dock.hpp"
#include "ssrl/viz/sphere_view.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/trainer.hpp"
#include "ssrl/viz/metric_chart.hpp"

using namespace ssrl;
using namespace ssrl::ui;

namespace {

void type_into(QWidget* w, const QString& text) {
  auto* edit = qobject_cast<QLineEdit*>(w);
  QVERIFY2(edit != nullptr, "not a line edit");
  edit->selectAll();
  QTest::keyClick(edit, Qt::Key_Backspace);
  QTest::keyClicks(edit, text);
}

QPushButton* button(QWidget* root, const char* name) {
  auto* b = root->findChild<QPushButton*>(QString::fromLatin1(name));
  if (b == nullptr) qFatal("no button %s", name);
  return b;
}

}  // namespace

class GuiTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QString db_;
  int case_ = 0;

  // A widget grab leaves the sphere's OpenGL window blank: paint VTK's own
  // frame into it, so the file shows what a user sees.
  void shot(QWidget* w, const QString& name) {
    QDir().mkpath(QStringLiteral(WB_SCREENSHOT_DIR));
    QImage image = w->grab().toImage();
    QPainter p(&image);
    for (auto* view : w->findChildren<viz::SphereView*>()) {
      if (!view->isVisible() || view->window() != w->window()) continue;
      const QImage gl = view->grabFramebuffer();
      if (!gl.isNull()) p.drawImage(QRect(view->mapTo(w, QPoint(0, 0)), view->size()), gl);
    }
    p.end();
    image.save(QStringLiteral(WB_SCREENSHOT_DIR "/%1.png").arg(name));
  }

  // The whole frame on the screen, and the controls a user needs inside it.
  void checkFits(MainWindow& w, const char* what) {
    const QRect area = w.availableArea();
    QVERIFY2(area.contains(w.frameGeometry()),
             qPrintable(QStringLiteral("%1: frame %2,%3 %4x%5 outside the available %6x%7")
                            .arg(QString::fromLatin1(what))
                            .arg(w.frameGeometry().x()).arg(w.frameGeometry().y())
                            .arg(w.frameGeometry().width()).arg(w.frameGeometry().height())
                            .arg(area.width()).arg(area.height())));
    for (QWidget* c : {static_cast<QWidget*>(button(w.setup(), "add")), static_cast<QWidget*>(button(w.queue(), "start"))}) {
      QVERIFY2(c->isVisible(), qPrintable(c->objectName()));
      const QRect r(c->mapTo(&w, QPoint(0, 0)), c->size());
      QVERIFY2(w.rect().contains(r), qPrintable(QStringLiteral("%1 lies outside the window").arg(c->objectName())));
    }
    auto* sphere = w.findChild<QDockWidget*>(QStringLiteral("sphereDock"));
    QVERIFY(sphere != nullptr && !sphere->isHidden());
    QVERIFY(sphere->features().testFlag(QDockWidget::DockWidgetFloatable));
  }

  // A small, fast Gaussian run through the form.
  void configure(MainWindow& w, const char* variant, int epochs) {
    QTest::mouseClick(button(w.setup(), variant), Qt::LeftButton);
    type_into(w.setup()->field(QStringLiteral("epochs")), QString::number(epochs));
    type_into(w.setup()->field(QStringLiteral("points_per_cluster")), QStringLiteral("40"));
    type_into(w.setup()->field(QStringLiteral("batch_size")), QStringLiteral("50"));
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    // Keep the user's settings and log out of the tests.
    QStandardPaths::setTestModeEnabled(true);
    qputenv("XDG_DATA_HOME", dir_.filePath(QStringLiteral("xdg")).toUtf8());
  }

  void init() { db_ = dir_.filePath(QStringLiteral("gui-%1.db").arg(++case_)); }

  void configuredRunTrainsDrawsOnePointPerEpochAndIsStored() {
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    configure(w, "variant_sdmi", 4);
    auto* marginal = qobject_cast<QCheckBox*>(w.setup()->field(QStringLiteral("marginal")));
    QVERIFY(marginal != nullptr && marginal->isChecked());
    QTest::mouseClick(marginal, Qt::LeftButton, {}, QPoint(2, marginal->height() / 2));
    QVERIFY(!marginal->isChecked());
    QVERIFY(w.setup()->config().has_value());
    QTest::mouseClick(button(w.setup(), "add"), Qt::LeftButton);
    QCOMPARE(w.queue()->pending(), 1);
    QSignalSpy finished(w.queue(), &RunQueue::runFinished);
    QTest::mouseClick(button(w.queue(), "start"), Qt::LeftButton);
    QVERIFY(finished.wait(60000));
    const qint64 run = finished.at(0).at(0).toLongLong();
    QCOMPARE(w.queue()->state(1), RunQueue::State::Finished);
    w.charts()->flush();
    const QString key = QString::number(run);
    for (int c : {ChartsPanel::kCosDv, ChartsPanel::kInfoNce, ChartsPanel::kJsd, ChartsPanel::kEmbeddingStd, ChartsPanel::kRank})
      QCOMPARE(w.charts()->chart(c)->pointCount(key), 4);
    // SDMI's loss is drawn per phase.
    QCOMPARE(w.charts()->chart(ChartsPanel::kLoss)->pointCount(key + QStringLiteral(":E")), 4);
    QCOMPARE(w.charts()->chart(ChartsPanel::kLoss)->pointCount(key + QStringLiteral(":M")), 4);
    storage::Database db(db_.toStdString(), storage::Database::Mode::ReadOnly);
    const auto d = db.load_run(run);
    QVERIFY(d.has_value());
    QCOMPARE(QString::fromStdString(d->run.status), QStringLiteral("finished"));
    QCOMPARE(d->run.method, std::string("sdmi"));
    const auto cfg = nlohmann::json::parse(d->run.config_json);
    QCOMPARE(cfg["marginal"].get<bool>(), false);
    QCOMPARE(cfg["epochs"].get<int>(), 4);
    QCOMPARE(static_cast<int>(d->epochs.size()), 4);
    QVERIFY(w.browser()->rowCount() >= 1);
    shot(&w, QStringLiteral("finished-run"));
  }

  void stoppingARunStoresItAsInterrupted() {
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    configure(w, "variant_simsiam-sdmi", 100000);
    QTest::mouseClick(button(w.setup(), "add"), Qt::LeftButton);
    QSignalSpy epochs(w.queue(), &RunQueue::runEpoch);
    QSignalSpy finished(w.queue(), &RunQueue::runFinished);
    QTest::mouseClick(button(w.queue(), "start"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(epochs.count() >= 3, 60000);
    // Pause holds the run between epochs; resume lets it go on.
    QTest::mouseClick(button(w.queue(), "pause"), Qt::LeftButton);
    QCOMPARE(w.queue()->state(1), RunQueue::State::Paused);
    QTest::qWait(400);
    const int held = epochs.count();
    QTest::qWait(600);
    QVERIFY2(epochs.count() <= held + 1, "the run kept training while paused");
    shot(&w, QStringLiteral("paused-run"));
    QTest::mouseClick(button(w.queue(), "pause"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(epochs.count() > held + 1, 30000);
    QTest::mouseClick(button(w.queue(), "stop"), Qt::LeftButton);
    QVERIFY(finished.wait(60000));
    const qint64 run = finished.at(0).at(0).toLongLong();
    QCOMPARE(w.queue()->state(1), RunQueue::State::Interrupted);
    storage::Database db(db_.toStdString(), storage::Database::Mode::ReadOnly);
    const auto d = db.load_run(run);
    QCOMPARE(QString::fromStdString(d->run.status), QStringLiteral("interrupted"));
    QVERIFY(d->run.epochs_done >= 3);
    QCOMPARE(QString::fromStdString(d->run.method), QStringLiteral("simsiam-sdmi"));
  }

  // The methods of issue 15 through the form: each offers its own settings
  // and none of the others', and a short Gaussian run of each trains to the
  // end and is stored under its name.
  void newerMethodsOfferTheirSettingsAndTrain() {
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    auto keys = [](const char* list) { return QString::fromLatin1(list).split(QLatin1Char(' ')); };
    const std::vector<std::pair<QString, QStringList>> methods = {
        {QStringLiteral("mocov2"), keys("temperature queue_size ema_momentum ema_cosine")},
        {QStringLiteral("dino"), keys("temperature teacher_temp warmup_teacher_temp warmup_teacher_temp_epochs "
                                      "center_momentum prototypes freeze_prototypes_epochs ema_momentum ema_cosine")},
        {QStringLiteral("swav"), keys("temperature prototypes sinkhorn_iters sinkhorn_eps freeze_prototypes_epochs queue_size")},
        {QStringLiteral("w-mse"), keys("w_size w_iter")}};
    QStringList all;
    for (const auto& [name, own] : methods) all += own;
    all.removeDuplicates();
    for (const auto& [name, own] : methods) {
      // Picked in the method list, as a user does (the variant buttons are the ablation's).
      auto* list = w.setup()->findChild<QComboBox*>(QStringLiteral("method"));
      QVERIFY(list != nullptr && list->findData(name) >= 0);
      list->setCurrentIndex(list->findData(name));
      QCOMPARE(w.setup()->method(), name);
      type_into(w.setup()->field(QStringLiteral("epochs")), QStringLiteral("2"));
      type_into(w.setup()->field(QStringLiteral("points_per_cluster")), QStringLiteral("40"));
      type_into(w.setup()->field(QStringLiteral("batch_size")), QStringLiteral("50"));
      for (const QString& key : all) {
        const bool offered = w.setup()->field(key) != nullptr;
        QVERIFY2(offered == own.contains(key), qPrintable(QStringLiteral("%1: %2 %3").arg(name, key,
                                                          offered ? QStringLiteral("offered") : QStringLiteral("missing"))));
      }
      // W-MSE whitens sub-batches of w_size rows: they must fit the batch of 50.
      if (name == QStringLiteral("w-mse")) type_into(w.setup()->field(QStringLiteral("w_size")), QStringLiteral("25"));
      QVERIFY2(w.setup()->config().has_value(), qPrintable(name));
      QTest::mouseClick(button(w.setup(), "add"), Qt::LeftButton);
    }
    QCOMPARE(w.queue()->pending(), static_cast<int>(methods.size()));
    QSignalSpy finished(w.queue(), &RunQueue::runFinished);
    QTest::mouseClick(button(w.queue(), "start"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == static_cast<int>(methods.size()), 120000);
    storage::Database db(db_.toStdString(), storage::Database::Mode::ReadOnly);
    QStringList stored;
    for (const auto& call : finished) {
      const auto d = db.load_run(call.at(0).toLongLong());
      QVERIFY(d.has_value());
      QCOMPARE(QString::fromStdString(d->run.status), QStringLiteral("finished"));
      QCOMPARE(static_cast<int>(d->epochs.size()), 2);
      stored << QString::fromStdString(d->run.method);
    }
    stored.sort();
    QCOMPARE(stored, (QStringList{QStringLiteral("dino"), QStringLiteral("mocov2"), QStringLiteral("swav"), QStringLiteral("w-mse")}));
  }

  void invalidInputIsMarkedAndBlocksTheStart() {
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTest::mouseClick(button(w.setup(), "variant_sdmi"), Qt::LeftButton);
    QVERIFY(button(w.setup(), "add")->isEnabled());
    QWidget* lr = w.setup()->field(QStringLiteral("lr"));
    type_into(lr, QStringLiteral("-0.5"));
    QVERIFY(!w.setup()->config().has_value());
    QVERIFY(!button(w.setup(), "add")->isEnabled());
    QVERIFY(lr->toolTip().contains(QStringLiteral("must be a number > 0")));
    QVERIFY(!lr->styleSheet().isEmpty());
    auto* error = w.setup()->findChild<QLabel*>(QStringLiteral("error"));
    QVERIFY(error->text().startsWith(QStringLiteral("lr:")));
    // Two bad fields are both marked.
    QWidget* epochs = w.setup()->field(QStringLiteral("epochs"));
    type_into(epochs, QStringLiteral("ten"));
    QVERIFY(epochs->toolTip().contains(QStringLiteral("integer")));
    QVERIFY(!lr->styleSheet().isEmpty());
    w.addToQueue();  // the menu's path
    QCOMPARE(w.queue()->pending(), 0);
    shot(&w, QStringLiteral("invalid-input"));
    // Fixing both enables the start again; the mark goes away.
    type_into(lr, QStringLiteral("0.25"));
    type_into(epochs, QStringLiteral("3"));
    QVERIFY(w.setup()->config().has_value());
    QVERIFY(lr->styleSheet().isEmpty());
    QCOMPARE(w.setup()->config()->lr, 0.25);
    // A variant's fixed ablation cannot be changed.
    QTest::mouseClick(button(w.setup(), "variant_sdmi-nodv"), Qt::LeftButton);
    QVERIFY(!w.setup()->field(QStringLiteral("marginal"))->isEnabled());
    QCOMPARE(w.setup()->config()->marginal, false);
    QCOMPARE(w.setup()->config()->lr, 0.25);  // what was typed for a common setting survives a method switch
  }

  void chartsAndTablesExport() {
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    configure(w, "variant_sdmi-nodv", 3);
    QTest::mouseClick(button(w.setup(), "add"), Qt::LeftButton);
    configure(w, "variant_simsiam", 3);
    QTest::mouseClick(button(w.setup(), "add"), Qt::LeftButton);
    QSignalSpy finished(w.queue(), &RunQueue::runFinished);
    w.queue()->start();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 120000);
    QString error;
    const QString png = dir_.filePath(QStringLiteral("charts.png")), svg = dir_.filePath(QStringLiteral("charts.svg"));
    QVERIFY2(w.exportCharts(png, QSize(1500, 900), &error), qPrintable(error));
    QVERIFY2(w.exportCharts(svg, QSize(1500, 900), &error), qPrintable(error));
    QImage image(png);
    QCOMPARE(image.size(), QSize(1500, 900));
    QFile svg_file(svg);
    QVERIFY(svg_file.open(QIODevice::ReadOnly));
    const QByteArray svg_text = svg_file.readAll();
    QVERIFY(svg_text.contains("<svg"));
    QVERIFY(svg_text.contains("cos-DV"));
    QVERIFY(!w.exportCharts(dir_.filePath(QStringLiteral("charts.bmp")), QSize(100, 100), &error));
    QVERIFY(error.contains(QStringLiteral(".png, .svg")));
    for (const char* ext : {"csv", "md", "tex"}) {
      const QString path = dir_.filePath(QStringLiteral("table.%1").arg(QLatin1String(ext)));
      QVERIFY2(w.exportTable(path, &error), qPrintable(error));
      QFile f(path);
      QVERIFY(f.open(QIODevice::ReadOnly));
      const QByteArray text = f.readAll();
      QVERIFY2(text.contains("sdmi-nodv") && text.contains("simsiam"), text.constData());
    }
    // The filter narrows the browser; the export follows what is shown.
    w.browser()->reload();
    w.browser()->setFilter(QStringLiteral("nodv"));
    QCOMPARE(w.browser()->rowCount(), 1);
    const QString only = dir_.filePath(QStringLiteral("only.csv"));
    QVERIFY(w.exportTable(only, &error));
    QFile f(only);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(!f.readAll().contains("simsiam,"));
    shot(&w, QStringLiteral("two-runs"));
  }

  void sphereTrajectoriesGrowOnePointPerEpoch() {
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    configure(w, "variant_sdmi", 6);
    QTest::mouseClick(button(w.setup(), "add"), Qt::LeftButton);
    std::vector<int> drawn;
    std::vector<int> panels;
    connect(w.queue(), &RunQueue::runEpoch, this, [&](qint64, const EpochRecord&) {
      w.sphere()->flushNow();
      drawn.push_back(w.sphere()->view()->drawnEpochs(0));
      panels.push_back(static_cast<int>(w.sphere()->view()->figure().panels.size()));
    });
    QSignalSpy finished(w.queue(), &RunQueue::runFinished);
    w.queue()->start();
    QVERIFY(finished.wait(60000));
    QCOMPARE(drawn, (std::vector<int>{1, 2, 3, 4, 5, 6}));
    QCOMPARE(panels.back(), 2);  // f and g side by side for SDMI
    // Scrub back to epoch 3; snapshots; a second run to compare.
    w.sphere()->setEpoch(3);
    w.sphere()->flushNow();
    QCOMPARE(w.sphere()->view()->drawnEpochs(0), 3);
    w.sphere()->setEncoderMode(QStringLiteral("g"));
    w.sphere()->setSnapshots(true, QStringLiteral("1, 2"));
    w.sphere()->setEpoch(0);
    w.sphere()->flushNow();
    QCOMPARE(static_cast<int>(w.sphere()->view()->figure().panels.size()), 3);  // epochs 1, 2 and the latest
    QCOMPARE(w.sphere()->view()->drawnEpochs(0), 1);
    QCOMPARE(w.sphere()->view()->drawnEpochs(2), 6);
    shot(&w, QStringLiteral("sphere-snapshots"));
    w.sphere()->setSnapshots(false);
    w.sphere()->flushNow();
    QCOMPARE(static_cast<int>(w.sphere()->view()->figure().panels.size()), 1);
  }

  void sphereViewRendersRotatesAndResets() {
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    configure(w, "variant_simsiam-sdmi", 4);
    QTest::mouseClick(button(w.setup(), "add"), Qt::LeftButton);
    QSignalSpy finished(w.queue(), &RunQueue::runFinished);
    w.queue()->start();
    QVERIFY(finished.wait(60000));
    w.sphere()->flushNow();
    QTest::qWait(300);  // let the dock's layout settle (the stats label wraps)
    viz::SphereView* view = w.sphere()->view();
    const QImage before = view->grabFramebuffer();
    int inked = 0;
    for (int y = 0; y < before.height(); y += 2)
      for (int x = 0; x < before.width(); x += 2) inked += qGray(before.pixel(x, y)) < 235;
    QVERIFY2(inked > (before.width() / 2) * (before.height() / 2) / 10, "the sphere view is blank");
    before.save(QStringLiteral(WB_SCREENSHOT_DIR "/sphere-view.png"));
    // A left drag rotates the camera: the picture changes.
    QWindow* surface = view->surface();
    const QPoint c = surface->geometry().center() - surface->geometry().topLeft();
    QTest::mousePress(surface, Qt::LeftButton, {}, c);
    for (int i = 1; i <= 8; ++i) {
      QMouseEvent move(QEvent::MouseMove, QPointF(c + QPoint(10 * i, 4 * i)), surface->mapToGlobal(QPointF(c + QPoint(10 * i, 4 * i))),
                       Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
      QApplication::sendEvent(surface, &move);
    }
    QTest::mouseRelease(surface, Qt::LeftButton, {}, c + QPoint(80, 32));
    const QImage rotated = view->grabFramebuffer();
    QVERIFY2(rotated != before, "dragging did not rotate the view");
    view->resetCamera();
    const QImage reset = view->grabFramebuffer();
    QCOMPARE(rotated.size(), before.size());
    QCOMPARE(reset.size(), before.size());
    // Back to the initial view (up to the odd antialiased pixel).
    double diff = 0;
    for (int y = 0; y < before.height(); ++y)
      for (int x = 0; x < before.width(); ++x) {
        const QColor a = reset.pixelColor(x, y), b = before.pixelColor(x, y);
        diff += std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) + std::abs(a.blue() - b.blue());
      }
    diff /= 3.0 * before.width() * before.height();
    qInfo() << "mean |reset - initial|" << diff;
    rotated.save(QStringLiteral(WB_SCREENSHOT_DIR "/sphere-view-rotated.png"));
    QVERIFY2(diff < 1.0, "reset camera did not restore the view");
  }

  // A real-data run through the form: pick the data set and its folder,
  // train, see the kNN monitor and the linear probe.
  void imageRunShowsKnnAndStoresTheProbe() {
    const QString data = dir_.filePath(QStringLiteral("cifar"));
    ssrl::test::write_cifar10(data.toStdString(), 40, 40);
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTest::mouseClick(button(w.setup(), "variant_simsiam"), Qt::LeftButton);
    auto* dataset = w.setup()->findChild<QComboBox*>(QStringLiteral("dataset"));
    QVERIFY(dataset != nullptr);
    dataset->setCurrentIndex(dataset->findData(QStringLiteral("cifar10")));
    QVERIFY(w.setup()->field(QStringLiteral("points_per_cluster")) == nullptr);  // Gaussian-only fields go
    QVERIFY(w.setup()->field(QStringLiteral("probe_epochs")) != nullptr);
    // CIFAR has no default folder: the field says so and the run cannot start.
    QVERIFY(!w.setup()->config().has_value());
    QWidget* folder = w.setup()->field(QStringLiteral("data_dir"));
    QVERIFY(folder->toolTip().contains(QStringLiteral("--data-dir")));
    type_into(folder, dir_.filePath(QStringLiteral("nowhere")));
    QVERIFY(folder->toolTip().contains(QStringLiteral("does not exist")));
    type_into(folder, data);
    QVERIFY(w.setup()->setValue(QStringLiteral("encoder"), QStringLiteral("small-cnn")));
    for (const auto& [key, value] : std::vector<std::pair<const char*, const char*>>{
             {"epochs", "2"}, {"batch_size", "32"}, {"val_subset", "32"}, {"knn_bank", "64"},
             {"proj_hidden", "64"}, {"proj_dim", "32"}, {"predictor_hidden", "32"}, {"probe_epochs", "2"}})
      type_into(w.setup()->field(QString::fromLatin1(key)), QString::fromLatin1(value));
    QVERIFY2(w.setup()->config().has_value(), qPrintable(w.setup()->error()));
    QCOMPARE(QString::fromStdString(w.setup()->config()->dataset), QStringLiteral("cifar10"));
    for (const char* key : {"epochs", "batch_size", "data_dir"})  // marks from half-typed values are gone
      QVERIFY2(w.setup()->field(QString::fromLatin1(key))->styleSheet().isEmpty(), key);
    QTest::mouseClick(button(w.setup(), "add"), Qt::LeftButton);
    QSignalSpy finished(w.queue(), &RunQueue::runFinished);
    w.queue()->start();
    QVERIFY(finished.wait(120000));
    const qint64 run = finished.at(0).at(0).toLongLong();
    QCOMPARE(w.queue()->state(1), RunQueue::State::Finished);
    w.charts()->flush();
    QVERIFY(!w.charts()->chart(ChartsPanel::kKnn)->isHidden());
    QCOMPARE(w.charts()->chart(ChartsPanel::kKnn)->pointCount(QString::number(run)), 2);
    // The collapse panel's toggle: backbone level in place of the projection's.
    QCOMPARE(w.charts()->chart(ChartsPanel::kFeatRank)->pointCount(QString::number(run)), 2);
    auto* level = w.charts()->findChild<QCheckBox*>(QStringLiteral("collapse_level"));
    QVERIFY(level != nullptr);
    QVERIFY(w.charts()->chart(ChartsPanel::kFeatStd)->isHidden());
    level->setChecked(true);
    QVERIFY(!w.charts()->chart(ChartsPanel::kFeatStd)->isHidden());
    QVERIFY(w.charts()->chart(ChartsPanel::kEmbeddingStd)->isHidden());
    level->setChecked(false);
    storage::Database db(db_.toStdString(), storage::Database::Mode::ReadOnly);
    const auto d = db.load_run(run);
    QVERIFY(d.has_value());
    QCOMPARE(QString::fromStdString(d->run.dataset), QStringLiteral("cifar10"));
    QVERIFY(d->run.probe_top1.has_value());
    QCOMPARE(d->run.checkpoint_epoch, 2);
    QVERIFY(QFileInfo::exists(QString::fromStdString(d->run.checkpoint)));
    QVERIFY(d->epochs.back().knn_top1_k20.has_value());
    QString error;
    const QString table = dir_.filePath(QStringLiteral("probe.csv"));
    QVERIFY2(w.exportTable(table, &error), qPrintable(error));
    QFile f(table);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY2(f.readAll().contains("simsiam"), "the probe table lacks the run");
    shot(&w, QStringLiteral("image-run"));
  }

  // Tools > MI estimator calibration: a quick calibration on a worker thread
  // fills the six panels while the window stays responsive.
  void calibrationDialogRunsAndShowsSixPanels() {
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    CalibrationDialog* d = w.openCalibration();
    QVERIFY(d != nullptr && d->isVisible());
    QSignalSpy done(d, &CalibrationDialog::finished);
    QTest::mouseClick(d->findChild<QPushButton*>(QStringLiteral("calibration_run")), Qt::LeftButton);
    QVERIFY(d->running());
    QVERIFY(done.wait(120000));
    QCOMPARE(d->chartCount(), 6);
    QVERIFY(!d->rows().empty());
    for (auto* view : d->findChildren<QChartView*>()) QVERIFY(view->isVisible());
    QTest::qWait(200);  // let the grid lay the charts out before the screenshot
    QVERIFY(d->findChild<QPushButton*>(QStringLiteral("calibration_save"))->isEnabled());
    shot(d, QStringLiteral("mi-calibration"));
  }

  // Also run alone on a 1280 x 720 screen (ctest gui_small).
  void windowFitsTheScreen() {
    QSettings().remove(QStringLiteral("window"));
    {
      MainWindow w(db_);
      w.show();
      QVERIFY(QTest::qWaitForWindowExposed(&w));
      QTest::qWait(100);
      checkFits(w, "no saved geometry");
      const QRect area = w.availableArea();
      // Large screens keep the 1600 x 950 window, the sphere beside the charts.
      if (area.width() >= 1700 && area.height() >= 1050) {
        QCOMPARE(w.size(), QSize(1600, 950));
        QVERIFY(w.sphere()->isVisible());
        QVERIFY(w.sphere()->width() >= 400);
      }
      shot(&w, QStringLiteral("window-%1x%2").arg(area.width()).arg(area.height()));
    }
    // Geometry saved on a larger screen.
    {
      MainWindow big(db_);
      big.setGeometry(300, 200, 2500, 1500);
      QSettings().setValue(QStringLiteral("window/geometry"), big.saveGeometry());
    }
    MainWindow w(db_);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTest::qWait(100);
    checkFits(w, "geometry saved on a larger screen");
    QSettings().remove(QStringLiteral("window"));
  }

  // The window opens before LibTorch is loaded and loads it after its first
  // frame (here the engine is linked in, so only the wiring is tested).
  void theStatusBarSaysWhenLibTorchIsReady() {
    MainWindow w(db_);
    auto* device = w.findChild<QLabel*>(QStringLiteral("deviceLabel"));
    QVERIFY(device != nullptr);
    QVERIFY2(device->text().contains(QStringLiteral("loading LibTorch")), qPrintable(device->text()));
    QSignalSpy ready(&w, &MainWindow::engineReady);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(ready.count() == 1 || ready.wait(30000));
    QCOMPARE(device->text(), QStringLiteral("device: %1 · LibTorch %2")
                                 .arg(QString::fromStdString(resolve_device("auto")), QString::fromStdString(torch_version())));
  }

  void aForeignDatabaseIsRefusedWithADialog() {
    MainWindow w(db_);
    w.show();
    const QString bad = dir_.filePath(QStringLiteral("notes.db"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, 'x'));
    f.close();
    QVERIFY(!w.openDatabase(bad));
    QTRY_VERIFY(w.findChild<QWidget*>(QStringLiteral("errorDialog")) != nullptr);
    QCOMPARE(w.database(), db_);
    QCOMPARE(QFileInfo(bad).size(), 4096);
  }
};

QTEST_MAIN(GuiTest)
#include "test_gui.moc"
