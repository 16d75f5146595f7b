#include "run_browser.hpp"

#include <QDialog>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"

namespace ssrl::ui {
namespace {

constexpr int kSortRole = Qt::UserRole + 1;
constexpr int kIdRole = Qt::UserRole + 2;

QStandardItem* text_item(const QString& text) {
  auto* it = new QStandardItem(text);
  it->setData(text, kSortRole);
  it->setEditable(false);
  return it;
}

QStandardItem* number_item(std::optional<double> v, int decimals) {
  auto* it = new QStandardItem(v ? QString::number(*v, 'f', decimals) : QStringLiteral("n/a"));
  it->setData(v ? *v : -1e300, kSortRole);
  it->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  it->setEditable(false);
  return it;
}

QString duration(double s) {
  const auto t = static_cast<qint64>(s + 0.5);
  return QStringLiteral("%1:%2").arg(t / 60).arg(t % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

RunBrowser::RunBrowser(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  filter_ = new QLineEdit;
  filter_->setObjectName(QStringLiteral("filter"));
  filter_->setPlaceholderText(QStringLiteral("Filter: method, status, tag, name…"));
  filter_->setClearButtonEnabled(true);
  bar->addWidget(filter_, 1);
  auto* refresh = new QPushButton(QStringLiteral("Refresh"));
  auto* rename = new QPushButton(QStringLiteral("Rename…"));
  auto* tag = new QPushButton(QStringLiteral("Tag…"));
  auto* details = new QPushButton(QStringLiteral("Config && log…"));
  auto* del = new QPushButton(QStringLiteral("Delete…"));
  del->setObjectName(QStringLiteral("delete"));
  for (auto* b : {refresh, rename, tag, details, del}) bar->addWidget(b);
  layout->addLayout(bar);

  model_ = new QStandardItemModel(0, 14, this);
  model_->setHorizontalHeaderLabels({"ID", "Name", "Method", "Paradigm", "Data", "Status", "Seed", "Epochs",
                                     "cos-DV", "InfoNCE", "JSD", "Min sep f (°)", "Probe top-1 (%)", "Time"});
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(kSortRole);
  proxy_->setFilterKeyColumn(-1);
  proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  view_ = new QTableView;
  view_->setObjectName(QStringLiteral("runs"));
  view_->setModel(proxy_);
  view_->setSortingEnabled(true);
  view_->sortByColumn(0, Qt::DescendingOrder);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setStretchLastSection(true);
  view_->setWordWrap(false);
  layout->addWidget(view_);

  connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
  connect(refresh, &QPushButton::clicked, this, &RunBrowser::reload);
  connect(rename, &QPushButton::clicked, this, &RunBrowser::renameSelected);
  connect(tag, &QPushButton::clicked, this, &RunBrowser::tagSelected);
  connect(details, &QPushButton::clicked, this, &RunBrowser::showDetails);
  connect(del, &QPushButton::clicked, this, &RunBrowser::deleteSelected);
  connect(view_, &QTableView::doubleClicked, this, &RunBrowser::showDetails);
  connect(view_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunBrowser::selectionChanged);
}

void RunBrowser::setDatabase(const QString& path) {
  db_path_ = path;
  reload();
}

void RunBrowser::setFilter(const QString& text) { filter_->setText(text); }

int RunBrowser::rowCount() const { return proxy_->rowCount(); }

void RunBrowser::reload() {
  const auto keep = selectedRuns();
  model_->removeRows(0, model_->rowCount());
  rows_.clear();
  if (!QFileInfo::exists(db_path_)) return;
  try {
    storage::Database db(db_path_.toStdString(), storage::Database::Mode::ReadOnly);
    rows_ = db.list_runs();
  } catch (const Error& e) {
    Q_EMIT errorOccurred(QString::fromUtf8(e.what()));
    return;
  }
  const bool sorting = view_->isSortingEnabled();
  view_->setSortingEnabled(false);
  for (const auto& r : rows_) {
    QList<QStandardItem*> items;
    auto* id = number_item(static_cast<double>(r.id), 0);
    id->setData(static_cast<qlonglong>(r.id), kIdRole);
    items << id << text_item(QString::fromStdString(r.name)) << text_item(QString::fromStdString(r.method))
          << text_item(QString::fromStdString(r.paradigm)) << text_item(QString::fromStdString(r.dataset))
          << text_item(QString::fromStdString(r.status)) << number_item(static_cast<double>(r.seed), 0)
          << text_item(QStringLiteral("%1/%2").arg(r.epochs_done).arg(r.epochs_planned))
          << number_item(r.last_mi.cos_dv, 3) << number_item(r.last_mi.infonce, 3) << number_item(r.last_mi.jsd, 3)
          << number_item(r.min_separation, 1)
          << number_item(r.probe_top1 ? std::optional<double>(100.0 * *r.probe_top1) : std::nullopt, 1)
          << text_item(duration(r.seconds));
    items[5]->setToolTip(QString::fromStdString(r.message));
    items[1]->setToolTip(QStringLiteral("tag: %1").arg(QString::fromStdString(r.tag)));
    model_->appendRow(items);
  }
  view_->setSortingEnabled(sorting);
  view_->resizeColumnsToContents();
  selectRuns(keep);
}

std::vector<qint64> RunBrowser::selectedRuns() const {
  std::vector<qint64> ids;
  for (const auto& index : view_->selectionModel()->selectedRows(0))
    ids.push_back(proxy_->data(index, kIdRole).toLongLong());
  return ids;
}

void RunBrowser::selectRuns(const std::vector<qint64>& ids) {
  QItemSelection sel;
  for (int row = 0; row < proxy_->rowCount(); ++row) {
    const auto index = proxy_->index(row, 0);
    if (std::find(ids.begin(), ids.end(), proxy_->data(index, kIdRole).toLongLong()) != ids.end())
      sel.select(index, proxy_->index(row, proxy_->columnCount() - 1));
  }
  view_->selectionModel()->select(sel, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

std::vector<storage::RunRow> RunBrowser::visibleRuns() const {
  std::vector<storage::RunRow> out;
  for (int row = 0; row < proxy_->rowCount(); ++row) {
    const qint64 id = proxy_->data(proxy_->index(row, 0), kIdRole).toLongLong();
    for (const auto& r : rows_)
      if (r.id == id) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

void RunBrowser::renameSelected() {
  const auto ids = selectedRuns();
  if (ids.size() != 1) return;
  bool ok = false;
  const QString name = QInputDialog::getText(this, QStringLiteral("Rename run"), QStringLiteral("New name:"),
                                             QLineEdit::Normal, QString(), &ok);
  if (!ok || name.trimmed().isEmpty()) return;
  try {
    storage::Database db(db_path_.toStdString(), storage::Database::Mode::ReadWrite, 2000);
    db.rename_run(ids.front(), name.trimmed().toStdString());
    db.append_log(ids.front(), "info", "renamed to '" + name.trimmed().toStdString() + "'");
  } catch (const Error& e) {
    Q_EMIT errorOccurred(QString::fromUtf8(e.what()));
  }
  reload();
}

void RunBrowser::tagSelected() {
  const auto ids = selectedRuns();
  if (ids.empty()) return;
  bool ok = false;
  const QString tag = QInputDialog::getText(this, QStringLiteral("Tag runs"),
                                            QStringLiteral("Tag for %1 run(s):").arg(ids.size()), QLineEdit::Normal,
                                            QString(), &ok);
  if (!ok) return;
  try {
    storage::Database db(db_path_.toStdString(), storage::Database::Mode::ReadWrite, 2000);
    for (auto id : ids) db.set_tag(id, tag.trimmed().toStdString());
  } catch (const Error& e) {
    Q_EMIT errorOccurred(QString::fromUtf8(e.what()));
  }
  reload();
}

void RunBrowser::deleteSelected() {
  const auto ids = selectedRuns();
  if (ids.empty()) return;
  const auto answer = QMessageBox::question(
      this, QStringLiteral("Delete runs"),
      QStringLiteral("Delete %1 run(s) and every metric stored with them? This cannot be undone.").arg(ids.size()),
      QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
  if (answer != QMessageBox::Yes) return;
  try {
    storage::Database db(db_path_.toStdString(), storage::Database::Mode::ReadWrite, 2000);
    for (const auto& r : rows_)
      if (std::find(ids.begin(), ids.end(), r.id) != ids.end() && r.status == "running")
        throw StorageError("run " + std::to_string(r.id) + " is still running; stop it first");
    for (auto id : ids) db.delete_run(id);
  } catch (const Error& e) {
    Q_EMIT errorOccurred(QString::fromUtf8(e.what()));
  }
  reload();
}

void RunBrowser::showDetails() {
  const auto ids = selectedRuns();
  if (ids.empty()) return;
  QString text;
  try {
    storage::Database db(db_path_.toStdString(), storage::Database::Mode::ReadOnly);
    const auto d = db.load_run(ids.front());
    if (!d) return;
    const auto cfg = nlohmann::json::parse(d->run.config_json, nullptr, false);
    text += QStringLiteral("Run %1 '%2' — %3, %4\n\nConfig\n%5\n\nLog\n")
                .arg(d->run.id)
                .arg(QString::fromStdString(d->run.name), QString::fromStdString(d->run.method),
                     QString::fromStdString(d->run.status), QString::fromStdString(cfg.dump(2)));
    for (const auto& line : db.load_log(ids.front()))
      text += QStringLiteral("%1  %2  %3\n").arg(QString::fromStdString(line.at), QString::fromStdString(line.level),
                                                  QString::fromStdString(line.text));
  } catch (const Error& e) {
    Q_EMIT errorOccurred(QString::fromUtf8(e.what()));
    return;
  }
  QDialog dialog(this);
  dialog.setWindowTitle(QStringLiteral("Run %1").arg(ids.front()));
  auto* layout = new QVBoxLayout(&dialog);
  auto* edit = new QPlainTextEdit(text);
  edit->setReadOnly(true);
  edit->setFont(QFont(QStringLiteral("monospace")));
  layout->addWidget(edit);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  layout->addWidget(buttons);
  dialog.resize(640, 560);
  dialog.exec();
}

}  // namespace ssrl::ui
