#include "main_window.hpp"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QTableWidget>
#include <QToolBar>
#include <QVBoxLayout>

#include "ssrl/errors.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/viz/mi_chart.hpp"

namespace ssrl::ui {
namespace {

QTableWidgetItem* cell(const QString& text) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(item->flags() & ~Qt::ItemIsEditable);
  return item;
}

QString number(const std::optional<double>& v, int decimals) {
  return v ? QString::number(*v, 'f', decimals) : QStringLiteral("n/a");
}

}  // namespace

MainWindow::MainWindow(std::string db_path, QWidget* parent) : QMainWindow(parent), db_path_(std::move(db_path)) {
  setWindowTitle(QStringLiteral("SSRL Workbench — %1").arg(QString::fromStdString(db_path_)));
  auto* bar = addToolBar(QStringLiteral("Runs"));
  auto* refresh = new QPushButton(QStringLiteral("Refresh"));
  refresh->setShortcut(QKeySequence::Refresh);
  bar->addWidget(refresh);
  bar->addWidget(new QLabel(QStringLiteral("  MI estimator: ")));
  estimator_ = new QComboBox;
  estimator_->addItems({QStringLiteral("cos-DV"), QStringLiteral("InfoNCE"), QStringLiteral("JSD")});
  bar->addWidget(estimator_);

  table_ = new QTableWidget(0, 8);
  table_->setHorizontalHeaderLabels({"ID", "Name", "Method", "Paradigm", "Status", "Seed", "Final cos-DV", "Min sep f (°)"});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSortingEnabled(true);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  table_->setWordWrap(false);
  table_->sortByColumn(0, Qt::AscendingOrder);

  chart_ = new viz::MiChartView;
  chart_->setMinimumSize(480, 320);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(table_);
  split->addWidget(chart_);
  setCentralWidget(split);
  status_ = new QLabel;
  statusBar()->addWidget(status_);

  connect(refresh, &QPushButton::clicked, this, &MainWindow::reload);
  connect(estimator_, &QComboBox::currentIndexChanged, this, &MainWindow::updateChart);
  connect(table_, &QTableWidget::itemSelectionChanged, this, &MainWindow::updateChart);
  resize(1100, 760);
  reload();
}

void MainWindow::reload() {
  table_->setSortingEnabled(false);
  table_->setRowCount(0);
  if (!QFileInfo::exists(QString::fromStdString(db_path_))) {
    status_->setText(QStringLiteral("No database yet at %1: run `ssrl-workbench reproduce gaussian` to fill it.")
                         .arg(QString::fromStdString(db_path_)));
    return;
  }
  try {
    storage::Database db(db_path_, storage::Database::Mode::ReadOnly);
    const auto rows = db.list_runs();
    table_->setRowCount(static_cast<int>(rows.size()));
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
      const auto& r = rows[static_cast<std::size_t>(i)];
      auto* id = new QTableWidgetItem;
      id->setData(Qt::DisplayRole, static_cast<qlonglong>(r.id));  // sorts as a number
      id->setFlags(id->flags() & ~Qt::ItemIsEditable);
      table_->setItem(i, 0, id);
      table_->setItem(i, 1, cell(QString::fromStdString(r.name)));
      table_->setItem(i, 2, cell(QString::fromStdString(r.method)));
      table_->setItem(i, 3, cell(QString::fromStdString(r.paradigm)));
      table_->setItem(i, 4, cell(QString::fromStdString(r.status)));
      auto* seed = new QTableWidgetItem;
      seed->setData(Qt::DisplayRole, static_cast<qlonglong>(r.seed));
      seed->setFlags(seed->flags() & ~Qt::ItemIsEditable);
      table_->setItem(i, 5, seed);
      table_->setItem(i, 6, cell(number(r.last_mi.cos_dv, 3)));
      table_->setItem(i, 7, cell(number(r.min_separation, 1)));
    }
    status_->setText(QStringLiteral("%1 runs").arg(rows.size()));
  } catch (const Error& e) {
    QMessageBox::warning(this, QStringLiteral("Database"), QString::fromUtf8(e.what()));
  }
  table_->setSortingEnabled(true);
  table_->resizeColumnsToContents();
  // Show the newest run's curves until the user picks others.
  if (table_->rowCount() > 0 && table_->selectionModel()->selectedRows().isEmpty()) {
    int newest = 0;
    for (int i = 1; i < table_->rowCount(); ++i)
      if (table_->item(i, 0)->data(Qt::DisplayRole).toLongLong() > table_->item(newest, 0)->data(Qt::DisplayRole).toLongLong())
        newest = i;
    table_->selectRow(newest);
  }
  updateChart();
}

void MainWindow::updateChart() {
  std::vector<viz::RunCurve> curves;
  const int which = estimator_->currentIndex();
  const auto selected = table_->selectionModel()->selectedRows();
  try {
    if (!selected.isEmpty()) {
      storage::Database db(db_path_, storage::Database::Mode::ReadOnly);
      for (const auto& index : selected) {
        const auto id = table_->item(index.row(), 0)->data(Qt::DisplayRole).toLongLong();
        const auto detail = db.load_run(static_cast<std::int64_t>(id));
        if (!detail) continue;
        viz::RunCurve c;
        c.label = QStringLiteral("%1 #%2").arg(QString::fromStdString(detail->run.method)).arg(id);
        c.sdmi_family = detail->run.paradigm == "SDMI";
        for (const auto& e : db.load_epochs(static_cast<std::int64_t>(id), false)) {
          const auto& v = which == 0 ? e.mi.cos_dv : which == 1 ? e.mi.infonce : e.mi.jsd;
          c.points.push_back({e.epoch, v});
        }
        curves.push_back(std::move(c));
      }
    }
  } catch (const Error& e) {
    status_->setText(QString::fromUtf8(e.what()));
  }
  chart_->setCurves(QStringLiteral("%1 on the validation set").arg(estimator_->currentText()),
                    QStringLiteral("MI lower bound (nats)"), curves);
}

}  // namespace ssrl::ui
