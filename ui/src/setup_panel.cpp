#include "setup_panel.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QToolButton>
#include <QVBoxLayout>

#include <map>

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"

namespace ssrl::ui {
namespace {

using json = nlohmann::json;

QString json_text(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? QStringLiteral("on") : QStringLiteral("off");
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  return QString::fromStdString(v.dump());
}

const char* kBadStyle = "background-color: #ffd9d6;";

// Long item texts ("gaussian — Gaussian mixture on the sphere (synthetic)")
// would set the dock's minimum width; the popup still shows them whole.
QComboBox* shrinkable(QComboBox* c) {
  c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  c->setMinimumContentsLength(12);
  return c;
}

}  // namespace

SetupPanel::SetupPanel(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  auto* top = new QFormLayout;
  method_ = shrinkable(new QComboBox);
  method_->setObjectName(QStringLiteral("method"));
  for (const auto& m : all_methods())
    method_->addItem(QStringLiteral("%1 — %2").arg(QString::fromStdString(m.name), QString::fromStdString(m.display)),
                     QString::fromStdString(m.name));
  top->addRow(QStringLiteral("Method"), method_);
  paradigm_ = new QLabel;
  paradigm_->setObjectName(QStringLiteral("paradigm"));
  top->addRow(QStringLiteral("Paradigm"), paradigm_);
  dataset_ = shrinkable(new QComboBox);
  dataset_->setObjectName(QStringLiteral("dataset"));
  for (const auto& d : datasets())
    dataset_->addItem(QStringLiteral("%1 — %2").arg(QString::fromStdString(d.name), QString::fromUtf8(d.title.c_str())),
                      QString::fromStdString(d.name));
  dataset_->setToolTip(QStringLiteral("The Gaussian-mixture experiment, or a real image data set read from a folder"));
  top->addRow(QStringLiteral("Data set"), dataset_);
  preset_ = shrinkable(new QComboBox);
  preset_->setObjectName(QStringLiteral("preset"));
  preset_->addItem(QStringLiteral("(method defaults)"));
  for (const auto& p : list_presets()) preset_->addItem(QString::fromStdString(p));
  top->addRow(QStringLiteral("Preset"), preset_);
  outer->addLayout(top);
  summary_ = new QLabel;
  summary_->setWordWrap(true);
  summary_->setStyleSheet(QStringLiteral("color: palette(mid);"));
  outer->addWidget(summary_);

  // One-click variants of the paper's ablations.
  auto* variants = new QGroupBox(QStringLiteral("Ablation variants"));
  auto* vl = new QGridLayout(variants);
  int i = 0;
  for (const char* name : {"sdmi", "sdmi-nodv", "sdmi-nodv-pred", "simsiam", "simsiam-nopred", "simsiam-sdmi"}) {
    auto* b = new QPushButton(QString::fromStdString(find_method(name).display));
    b->setObjectName(QStringLiteral("variant_%1").arg(QString::fromLatin1(name)));
    b->setToolTip(QString::fromStdString(find_method(name).summary));
    connect(b, &QPushButton::clicked, this, [this, name] { setMethod(QString::fromLatin1(name)); });
    vl->addWidget(b, i / 3, i % 3);
    ++i;
  }
  outer->addWidget(variants);

  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  fields_box_ = new QWidget;
  groups_ = new QVBoxLayout(fields_box_);
  groups_->setContentsMargins(0, 0, 0, 0);
  scroll->setWidget(fields_box_);
  outer->addWidget(scroll, 1);

  error_ = new QLabel;
  error_->setObjectName(QStringLiteral("error"));
  error_->setWordWrap(true);
  error_->setStyleSheet(QStringLiteral("color: #b3261e;"));
  outer->addWidget(error_);
  add_ = new QPushButton(QStringLiteral("Add to queue"));
  add_->setObjectName(QStringLiteral("add"));
  add_->setToolTip(QStringLiteral("Queue a run with these settings (Ctrl+Return)"));
  outer->addWidget(add_);
  connect(add_, &QPushButton::clicked, this, &SetupPanel::addRequested);
  connect(method_, &QComboBox::currentIndexChanged, this, [this] { rebuildFields(); });
  connect(dataset_, &QComboBox::currentIndexChanged, this, [this] { rebuildFields(); });
  connect(preset_, &QComboBox::activated, this, [this](int index) {
    if (index > 0) applyPreset(preset_->itemText(index));
  });
  rebuildFields();
}

QString SetupPanel::method() const { return method_->currentData().toString(); }

QString SetupPanel::dataset() const { return dataset_->currentData().toString(); }

void SetupPanel::setDataset(const QString& name) {
  const int index = dataset_->findData(name);
  if (index >= 0) dataset_->setCurrentIndex(index);
}

void SetupPanel::setMethod(const QString& name) {
  const int index = method_->findData(name);
  if (index >= 0) method_->setCurrentIndex(index);
}

QWidget* SetupPanel::field(const QString& key) const {
  const auto it = editors_.find(key.toStdString());
  return it == editors_.end() ? nullptr : it->second;
}

QString SetupPanel::text_of(const std::string& key) const {
  const QWidget* w = editors_.at(key);
  if (const auto* c = qobject_cast<const QCheckBox*>(w)) return c->isChecked() ? QStringLiteral("on") : QStringLiteral("off");
  if (const auto* c = qobject_cast<const QComboBox*>(w)) return c->currentText();
  if (const auto* e = qobject_cast<const QLineEdit*>(w)) return e->text().trimmed();
  return {};
}

void SetupPanel::remember(const std::string& key, const QString& text) {
  const auto* f = find_config_field(key);
  if (f != nullptr && f->common()) typed_[key] = text;
}

bool SetupPanel::setValue(const QString& key, const QString& text) {
  QWidget* w = field(key);
  if (w == nullptr || !w->isEnabled()) return false;
  if (auto* c = qobject_cast<QCheckBox*>(w)) {
    c->setChecked(text == QLatin1String("on") || text == QLatin1String("true"));
  } else if (auto* c2 = qobject_cast<QComboBox*>(w)) {
    const int index = c2->findText(text);
    if (index >= 0) c2->setCurrentIndex(index);
    else if (c2->isEditable()) c2->setEditText(text);
    else return false;
  } else if (auto* e = qobject_cast<QLineEdit*>(w)) {
    e->setText(text);
  }
  remember(key.toStdString(), text);
  revalidate();
  return true;
}

void SetupPanel::applyPreset(const QString& name) {
  try {
    const json preset = load_preset(name.toStdString());
    if (preset.contains("method") && preset["method"].is_string())
      setMethod(QString::fromStdString(preset["method"].get<std::string>()));
    if (preset.contains("dataset") && preset["dataset"].is_string())
      setDataset(QString::fromStdString(preset["dataset"].get<std::string>()));
    json settings = preset;
    if (preset.contains("per_method") && preset["per_method"].is_object()) {
      const MethodInfo& info = find_method(method().toStdString());
      for (const auto& [for_method, values] : preset["per_method"].items())
        if ((for_method == info.base || for_method == info.name) && values.is_object()) settings.update(values);
    }
    for (const auto& [key, value] : settings.items()) {
      if (key == "method" || key == "dataset" || key == "per_method") continue;
      setValue(QString::fromStdString(key), json_text(value));
      remember(key, json_text(value));
    }
    setValue(QStringLiteral("preset"), name);
    remember("preset", name);
  } catch (const Error& e) {
    error_->setText(QString::fromUtf8(e.what()));
  }
  revalidate();
}

void SetupPanel::rebuildFields() {
  building_ = true;
  const std::string method_name = method().toStdString();
  const MethodInfo& info = find_method(method_name);
  paradigm_->setText(QStringLiteral("%1%2")
                         .arg(QString::fromLatin1(paradigm_name(info.paradigm)))
                         .arg(info.is_variant() ? QStringLiteral("  (variant of %1)").arg(QString::fromStdString(info.base))
                                                : QString()));
  summary_->setText(QString::fromStdString(info.summary));
  // Clear the old boxes.
  while (QLayoutItem* item = groups_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  editors_.clear();
  const std::string data = dataset().toStdString();
  // Unchecked: a missing data folder is reported at its field, not here.
  const RunConfig defaults = ConfigBuilder(method_name, data).build_unchecked();
  const auto keys = relevant_keys(defaults);
  auto relevant = [&](const std::string& k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
  // One box per setting group, in the order of the groups; the data set is
  // chosen above the boxes.
  for (const SettingGroup group : kSettingGroups) {
    QGroupBox* box = nullptr;
    QFormLayout* form = nullptr;
    for (const ConfigField& field : config_fields()) {
      const std::string& key = field.key;
      if (field.group != group || key == "dataset" || !relevant(key)) continue;
      if (box == nullptr) {
        box = new QGroupBox(QString::fromLatin1(group_title(group)));
        form = new QFormLayout(box);
        groups_->addWidget(box);
      }
      const ConfigField* f = &field;
      const bool fixed = info.fixed.is_object() && info.fixed.contains(key);
      const auto typed = typed_.find(key);
      const QString value = typed != typed_.end() && !fixed ? typed->second : json_text(field_value(defaults, key));
      QWidget* editor = nullptr;
      if (f->kind == ValueKind::Boolean) {
        auto* c = new QCheckBox;
        c->setChecked(value == QLatin1String("on"));
        connect(c, &QCheckBox::toggled, this, [this, key](bool on) {
          remember(key, on ? QStringLiteral("on") : QStringLiteral("off"));
          revalidate();
        });
        editor = c;
      } else if (key == "device" || !f->choices.empty()) {
        auto* c = new QComboBox;
        if (key == "device") {
          c->setEditable(true);
          c->addItems({QStringLiteral("auto"), QStringLiteral("cpu"), QStringLiteral("cuda")});
        } else {
          for (const auto& choice : f->choices) c->addItem(QString::fromStdString(choice));
        }
        const int index = c->findText(value);
        if (index >= 0) c->setCurrentIndex(index);
        else c->setEditText(value);
        connect(c, &QComboBox::currentTextChanged, this, [this, key](const QString& t) {
          remember(key, t);
          revalidate();
        });
        editor = c;
      } else {
        auto* e = new QLineEdit(value);
        if (key == "name") e->setPlaceholderText(QStringLiteral("method-data-seed"));
        if (key == "data_dir") {
          const std::string fallback = find_dataset(data).default_dir;
          e->setPlaceholderText(fallback.empty() ? QStringLiteral("folder with the data set's files (required)")
                                                 : QString::fromStdString(fallback));
        }
        connect(e, &QLineEdit::textEdited, this, [this, key](const QString& t) {
          remember(key, t.trimmed());
          revalidate();
        });
        editor = e;
      }
      editor->setObjectName(QStringLiteral("field_%1").arg(QString::fromStdString(key)));
      QString tip = QString::fromStdString(f->description);
      if (fixed) {
        editor->setEnabled(false);
        tip += QStringLiteral(" — fixed by the variant %1").arg(QString::fromStdString(method_name));
      }
      editor->setToolTip(tip);
      editor->setProperty("description", tip);
      if (key == "data_dir") {
        auto* row = new QWidget;
        auto* h = new QHBoxLayout(row);
        h->setContentsMargins(0, 0, 0, 0);
        h->addWidget(editor, 1);
        auto* browse = new QToolButton;
        browse->setObjectName(QStringLiteral("browse_data_dir"));
        browse->setText(QStringLiteral("…"));
        browse->setToolTip(QStringLiteral("Choose the folder that holds the data set's files"));
        connect(browse, &QToolButton::clicked, this, [this] {
          const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Data set folder"), text_of("data_dir"));
          if (!dir.isEmpty()) setValue(QStringLiteral("data_dir"), dir);
        });
        h->addWidget(browse);
        form->addRow(QString::fromStdString(key), row);
      } else {
        form->addRow(QString::fromStdString(key), editor);
      }
      editors_[key] = editor;
    }
  }
  groups_->addStretch(1);
  building_ = false;
  revalidate();
}

void SetupPanel::mark(const std::string& key, const QString& message) {
  const auto it = editors_.find(key);
  if (it == editors_.end()) return;
  QWidget* w = it->second;
  w->setStyleSheet(message.isEmpty() ? QString() : QString::fromLatin1(kBadStyle));
  w->setToolTip(message.isEmpty() ? w->property("description").toString() : message);
}

void SetupPanel::revalidate() {
  if (building_) return;
  const std::string m = method().toStdString();
  const std::string data = dataset().toStdString();
  std::optional<RunConfig> result;
  QString first;
  bool ok = true;
  ConfigBuilder full(m, data);
  for (const auto& [key, editor] : editors_) {
    if (!editor->isEnabled()) continue;  // fixed by a variant
    const std::string text = text_of(key).toStdString();
    if (key == "name" && text.empty()) {
      mark(key, {});
      continue;
    }
    // Each field on its own first, so that every bad field is marked.
    try {
      ConfigBuilder one(m, data);
      one.set(key, text);
      one.build();
      mark(key, {});
    } catch (const ConfigError& e) {
      // An error about another field (a data folder not yet given, a
      // cross-field rule) means this value passed its own checks.
      if (e.field() == key || e.field().empty()) {
        mark(key, QString::fromUtf8(e.what()));
        if (first.isEmpty()) first = QString::fromUtf8(e.what());
        ok = false;
      } else {
        mark(key, {});
      }
    }
    try {
      full.set(key, text);
    } catch (const ConfigError&) {
    }
  }
  if (ok) {
    try {
      result = full.build();
    } catch (const ConfigError& e) {  // settings that conflict with each other
      mark(e.field(), QString::fromUtf8(e.what()));
      first = QString::fromUtf8(e.what());
    }
  }
  const bool was = valid_.has_value();
  valid_ = result;
  error_text_ = first;
  error_->setText(first);
  add_->setEnabled(valid_.has_value());
  if (was != valid_.has_value()) Q_EMIT validityChanged(valid_.has_value());
}

QString SetupPanel::saveState() const {
  QJsonObject o;
  o[QStringLiteral("method")] = method();
  o[QStringLiteral("dataset")] = dataset();
  QJsonObject values;
  for (const auto& [key, text] : typed_) values[QString::fromStdString(key)] = text;
  o[QStringLiteral("values")] = values;
  return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

void SetupPanel::restoreState(const QString& text) {
  const auto doc = QJsonDocument::fromJson(text.toUtf8());
  if (!doc.isObject()) return;
  const auto o = doc.object();
  typed_.clear();
  const auto values = o.value(QStringLiteral("values")).toObject();
  for (auto it = values.begin(); it != values.end(); ++it)
    if (find_config_field(it.key().toStdString()) != nullptr) typed_[it.key().toStdString()] = it.value().toString();
  const QString m = o.value(QStringLiteral("method")).toString();
  const QString d = o.value(QStringLiteral("dataset")).toString();
  const QSignalBlocker block(dataset_);
  if (dataset_->findData(d) >= 0) dataset_->setCurrentIndex(dataset_->findData(d));
  if (method_->findData(m) >= 0 && m != method()) setMethod(m);
  else rebuildFields();
}

}  // namespace ssrl::ui
