#pragma once
// The live charts: the three MI estimators, the training loss (per phase for
// SDMI), the two collapse indicators (projection or backbone level, a toggle) and, for image runs, the kNN monitor;
// one curve per run. SDMI-family runs
// are solid, JMI-family runs dashed. Points are buffered and drawn on a
// timer, so plotting never keeps up the training thread. One legend above
// the grid names every run in full (a chart's own legend elides names).

#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <vector>

#include "ssrl/records.hpp"

namespace ssrl::viz {
class MetricChart;
}

class QLabel;

namespace ssrl::ui {

class ChartsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ChartsPanel(QWidget* parent = nullptr);

  void clear();
  // `sdmi_family` picks the line style; SDMI runs get E and M loss curves;
  // `knn` (image runs) shows the kNN monitor's chart.
  // `live_epochs` (a run being trained): the epochs the x axes span from the start.
  void addRun(qint64 run_id, const QString& label, bool sdmi_family, bool two_phases, bool knn = false,
              int live_epochs = 0);
  bool hasRun(qint64 run_id) const;
  void addEpoch(qint64 run_id, const EpochRecord& record);
  void addEpochs(qint64 run_id, const std::vector<EpochRecord>& records);
  // Draws every chart's buffered points now.
  void flush();

  std::vector<viz::MetricChart*> charts() const { return charts_; }
  viz::MetricChart* chart(int index) const { return charts_.at(static_cast<std::size_t>(index)); }
  // The charts on screen (kNN only while an image run is shown).
  std::vector<viz::MetricChart*> shownCharts() const;
  // kFeatStd and kFeatRank: the same indicators on the backbone features,
  // in the cells of kEmbeddingStd and kRank; the collapse-level toggle
  // shows one pair or the other.
  enum Index { kCosDv, kInfoNce, kJsd, kLoss, kEmbeddingStd, kRank, kKnn, kFeatStd, kFeatRank };
  void showBackboneLevel(bool backbone);
  // The shared legend's text, one entry per run.
  QString legendText() const;

 private:
  std::vector<viz::MetricChart*> charts_;
  std::vector<qint64> runs_;
  std::vector<bool> two_phase_;
  QStringList entries_;  // legend entries, rich text
  QLabel* legend_ = nullptr;
  QTimer timer_;
  std::size_t next_ = 0;  // the chart the timer looks at first
  void flushNext();
};

}  // namespace ssrl::ui
