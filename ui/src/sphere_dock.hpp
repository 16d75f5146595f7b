#pragma once
// The unit-sphere panel: cluster-centre trajectories of a run (f and g side
// by side or one at a time for SDMI), an epoch slider to scrub through
// training, small-multiple snapshots at chosen epochs, and a second run
// overlaid for comparison. Live runs grow epoch by epoch; redraws are
// coalesced so they never hold up training.

#include <QString>
#include <QTimer>
#include <QWidget>

#include <map>
#include <string>
#include <vector>

#include "ssrl/records.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSlider;

namespace ssrl::viz {
class SphereView;
}

namespace ssrl::ui {

class SphereDock : public QWidget {
  Q_OBJECT
 public:
  explicit SphereDock(QWidget* parent = nullptr);

  void clear();
  void setRun(qint64 id, const QString& label, const std::vector<EpochRecord>& epochs,
              const std::vector<EncoderFinal>& finals);
  void addEpoch(qint64 id, const EpochRecord& record);
  void showRun(qint64 id);
  void setCompare(qint64 id);  // -1: none
  void setEncoderMode(const QString& mode);  // "f", "g", "f | g"
  void setSnapshots(bool on, const QString& epochs = QString());
  void setEpoch(int epoch);  // 0: follow the latest

  viz::SphereView* view() const { return view_; }
  qint64 currentRun() const;
  int epochCount() const;  // epochs the current run has
  // Applies pending updates now instead of on the redraw timer.
  void flushNow();

 private:
  struct RunData {
    QString label;
    std::vector<std::string> encoders;
    std::map<std::string, std::vector<std::vector<Vec3>>> centres;  // [encoder][epoch - 1][cluster]
  };
  void refreshChoices();
  void schedule();
  void rebuild();

  viz::SphereView* view_ = nullptr;
  QComboBox* run_ = nullptr;
  QComboBox* compare_ = nullptr;
  QComboBox* encoder_ = nullptr;
  QSlider* epoch_ = nullptr;
  QLabel* epoch_label_ = nullptr;
  QCheckBox* snapshots_ = nullptr;
  QLineEdit* snapshot_epochs_ = nullptr;
  QLabel* stats_ = nullptr;
  std::map<qint64, RunData> runs_;
  QTimer redraw_;
  bool follow_ = true;
  bool updating_ = false;
};

}  // namespace ssrl::ui
