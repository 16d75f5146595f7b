#include "charts_panel.hpp"

#include <QCheckBox>
#include <QGridLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <QtCharts/QLegend>

#include <algorithm>

#include "ssrl/viz/metric_chart.hpp"

namespace ssrl::ui {

ChartsPanel::ChartsPanel(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(2, 2, 2, 2);
  outer->setSpacing(2);
  legend_ = new QLabel;
  legend_->setObjectName(QStringLiteral("chartsLegend"));
  legend_->setWordWrap(true);
  legend_->setTextFormat(Qt::RichText);
  outer->addWidget(legend_);
  auto* grid = new QGridLayout;
  grid->setSpacing(2);
  outer->addLayout(grid, 1);
  const std::pair<const char*, const char*> spec[] = {
      {"cos-DV bound (validation)", "nats"}, {"InfoNCE bound (validation)", "nats"},
      {"JSD bound (validation)", "nats"},    {"Training loss", "loss"},
      {"Embedding SD (collapse → 0)", "mean per-dim SD"}, {"Effective rank (RankMe)", "rank"},
      {"kNN top-1, k = 20 (validation)", "accuracy"},
      {"Backbone feature SD (collapse → 0)", "mean per-dim SD"}, {"Backbone effective rank (RankMe)", "rank"}};
  int i = 0;
  for (const auto& [title, unit] : spec) {
    auto* c = new viz::MetricChart(QString::fromUtf8(title), QString::fromUtf8(unit));
    c->setObjectName(QStringLiteral("chart%1").arg(i));
    c->setMinimumSize(260, 200);
    c->chart()->legend()->hide();
    if (i == kKnn) grid->addWidget(c, 0, 3, 2, 1);  // image runs only: a column of its own
    else if (i == kFeatStd || i == kFeatRank) grid->addWidget(c, 1, i - kFeatStd + 1);
    else grid->addWidget(c, i / 3, i % 3);
    charts_.push_back(c);
    ++i;
  }
  charts_[kKnn]->hide();
  legend_->setText(legendText());
  charts_[kFeatStd]->hide();
  charts_[kFeatRank]->hide();
  auto* level = new QCheckBox(tr("Collapse at the backbone features (the probe's input)"));
  level->setObjectName(QStringLiteral("collapse_level"));
  level->setToolTip(tr("Embedding SD and effective rank of the backbone features instead of the projection"));
  grid->addWidget(level, 2, 0, 1, 4);
  connect(level, &QCheckBox::toggled, this, &ChartsPanel::showBackboneLevel);
  // One chart per tick: Qt paints every widget updated in one event-loop
  // pass together, and six charts at once kept the loop busy ~30 ms. Each of
  // six shown charts is redrawn about four times a second.
  timer_.setInterval(40);
  connect(&timer_, &QTimer::timeout, this, &ChartsPanel::flushNext);
  timer_.start();
}

void ChartsPanel::showBackboneLevel(bool backbone) {
  charts_[kEmbeddingStd]->setVisible(!backbone);
  charts_[kRank]->setVisible(!backbone);
  charts_[kFeatStd]->setVisible(backbone);
  charts_[kFeatRank]->setVisible(backbone);
}

void ChartsPanel::clear() {
  for (auto* c : charts_) c->clear();
  runs_.clear();
  two_phase_.clear();
  entries_.clear();
  charts_[kKnn]->hide();
  legend_->setText(legendText());
}

QString ChartsPanel::legendText() const {
  if (entries_.isEmpty()) return QStringLiteral("No run shown: select runs in the Runs list, or queue one.");
  bool phases = false;
  for (bool p : two_phase_) phases = phases || p;
  QString note = QStringLiteral("solid: SDMI family, dashed: JMI family");
  if (phases) note += QStringLiteral("; SDMI loss: solid E step (f), dashed M step (g)");
  return entries_.join(QStringLiteral(" &nbsp; ")) + QStringLiteral(" &nbsp; <span style=\"color:#555\">(%1)</span>").arg(note);
}

bool ChartsPanel::hasRun(qint64 run_id) const { return std::find(runs_.begin(), runs_.end(), run_id) != runs_.end(); }

void ChartsPanel::addRun(qint64 run_id, const QString& label, bool sdmi_family, bool two_phases, bool knn,
                         int live_epochs) {
  if (hasRun(run_id)) return;
  const int colour = static_cast<int>(runs_.size());
  runs_.push_back(run_id);
  two_phase_.push_back(two_phases);
  const QString key = QString::number(run_id);
  entries_.append(QStringLiteral("<span style=\"color:%1\">%2</span>&nbsp;%3")
                      .arg(viz::MetricChart::colour(colour).name(),
                           sdmi_family ? QStringLiteral("&#9473;&#9473;") : QStringLiteral("&#9479;&#9479;"),
                           label.toHtmlEscaped().replace(QLatin1Char(' '), QStringLiteral("&nbsp;"))));
  legend_->setText(legendText());
  if (knn) charts_[kKnn]->show();
  for (std::size_t i = 0; i < charts_.size(); ++i) {
    if (static_cast<int>(i) == kKnn && !knn) continue;
    if (live_epochs > 0) charts_[i]->setEpochSpan(live_epochs);
    if (static_cast<int>(i) == kLoss && two_phases) {
      charts_[i]->addCurve(key + QStringLiteral(":E"), {label + QStringLiteral(" (E: f)"), !sdmi_family, colour});
      charts_[i]->addCurve(key + QStringLiteral(":M"), {label + QStringLiteral(" (M: g)"), true, colour});
    } else {
      charts_[i]->addCurve(key, {label, !sdmi_family, colour});
    }
  }
}

void ChartsPanel::addEpoch(qint64 run_id, const EpochRecord& r) {
  const auto it = std::find(runs_.begin(), runs_.end(), run_id);
  if (it == runs_.end()) return;
  const bool phases = two_phase_[static_cast<std::size_t>(it - runs_.begin())];
  const QString key = QString::number(run_id);
  charts_[kCosDv]->appendPoint(key, r.epoch, r.mi.cos_dv);
  charts_[kInfoNce]->appendPoint(key, r.epoch, r.mi.infonce);
  charts_[kJsd]->appendPoint(key, r.epoch, r.mi.jsd);
  if (phases) {
    charts_[kLoss]->appendPoint(key + QStringLiteral(":E"), r.epoch, r.loss_e);
    charts_[kLoss]->appendPoint(key + QStringLiteral(":M"), r.epoch, r.loss_m);
  } else {
    charts_[kLoss]->appendPoint(key, r.epoch, r.loss);
  }
  charts_[kEmbeddingStd]->appendPoint(key, r.epoch, r.embedding_std);
  charts_[kRank]->appendPoint(key, r.epoch, r.effective_rank);
  if (!r.collapse.empty()) {
    charts_[kFeatStd]->appendPoint(key, r.epoch, r.collapse.front().feat_std);
    charts_[kFeatRank]->appendPoint(key, r.epoch, r.collapse.front().feat_rank);
  }
  if (r.knn_top1_k20) charts_[kKnn]->appendPoint(key, r.epoch, *r.knn_top1_k20);
}

void ChartsPanel::addEpochs(qint64 run_id, const std::vector<EpochRecord>& records) {
  for (const auto& r : records) addEpoch(run_id, r);
  flush();
}

std::vector<viz::MetricChart*> ChartsPanel::shownCharts() const {
  std::vector<viz::MetricChart*> out;
  for (auto* c : charts_)
    if (!c->isHidden()) out.push_back(c);
  return out;
}

void ChartsPanel::flush() {
  for (auto* c : charts_) c->flush();
}

// Hidden charts keep their points buffered until they are shown.
void ChartsPanel::flushNext() {
  for (std::size_t k = 0; k < charts_.size(); ++k) {
    const std::size_t i = (next_ + k) % charts_.size();
    if (charts_[i]->hasPending() && charts_[i]->isVisible()) {
      charts_[i]->flush();
      next_ = i + 1;
      return;
    }
  }
}

}  // namespace ssrl::ui
