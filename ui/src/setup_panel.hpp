#pragma once
// The run setup form: method (with its paradigm), data set, presets, the settings that
// method uses with its defaults, ablation checkboxes and one-click variants.
// Every edit is checked by the same ConfigBuilder the CLI uses; a bad value
// is marked at its field with the message, and the run cannot be queued.

#include <QString>
#include <QWidget>

#include <map>
#include <optional>
#include <string>

#include "ssrl/config.hpp"

class QComboBox;
class QFormLayout;
class QLabel;
class QPushButton;
class QVBoxLayout;

namespace ssrl::ui {

class SetupPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SetupPanel(QWidget* parent = nullptr);

  // The config, when every field is valid.
  std::optional<RunConfig> config() const { return valid_; }
  QString error() const { return error_text_; }
  QString method() const;
  void setMethod(const QString& name);
  QString dataset() const;
  void setDataset(const QString& name);
  // Sets a field as if typed (text for line edits, on/off for checkboxes,
  // an item for combo boxes). Returns false for a field not shown.
  bool setValue(const QString& key, const QString& text);
  QWidget* field(const QString& key) const;
  void applyPreset(const QString& name);

  // What QSettings keeps: the method and the values typed so far.
  QString saveState() const;
  void restoreState(const QString& json);

 Q_SIGNALS:
  void validityChanged(bool valid);
  void addRequested();

 private:
  void rebuildFields();
  void revalidate();
  QString text_of(const std::string& key) const;
  void remember(const std::string& key, const QString& text);
  void mark(const std::string& key, const QString& message);

  QComboBox* method_ = nullptr;
  QComboBox* dataset_ = nullptr;
  QComboBox* preset_ = nullptr;
  QLabel* paradigm_ = nullptr;
  QLabel* summary_ = nullptr;
  QVBoxLayout* groups_ = nullptr;
  QWidget* fields_box_ = nullptr;
  QLabel* error_ = nullptr;
  QPushButton* add_ = nullptr;
  std::map<std::string, QWidget*> editors_;
  std::map<std::string, QString> typed_;  // survives method switches
  std::optional<RunConfig> valid_;
  QString error_text_;
  bool building_ = false;
};

}  // namespace ssrl::ui
