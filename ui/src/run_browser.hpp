#pragma once
// Every run in the database in a sortable, filterable table. Selecting runs
// overlays their curves; runs can be renamed, tagged, deleted (after a
// confirmation), and their full config and log opened.

#include <QString>
#include <QWidget>

#include <vector>

#include "ssrl/storage/database.hpp"

class QLineEdit;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;

namespace ssrl::ui {

class RunBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit RunBrowser(QWidget* parent = nullptr);

  void setDatabase(const QString& path);
  QString database() const { return db_path_; }
  std::vector<qint64> selectedRuns() const;
  void selectRuns(const std::vector<qint64>& ids);
  int rowCount() const;
  // The rows the filter lets through, for exporting the table.
  std::vector<storage::RunRow> visibleRuns() const;
  void setFilter(const QString& text);

 public Q_SLOTS:
  void reload();
  void renameSelected();
  void tagSelected();
  void deleteSelected();
  void showDetails();

 Q_SIGNALS:
  void selectionChanged();
  void errorOccurred(const QString& message);

 private:
  QString db_path_;
  QLineEdit* filter_ = nullptr;
  QStandardItemModel* model_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  QTableView* view_ = nullptr;
  std::vector<storage::RunRow> rows_;
};

}  // namespace ssrl::ui
