#include "ssrl/viz/mi_chart.hpp"

#include <QPen>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ssrl::viz {

MiChartView::MiChartView(QWidget* parent) : QChartView(new QChart(), parent) {
  setRenderHint(QPainter::Antialiasing);
  chart()->legend()->setAlignment(Qt::AlignBottom);
}

int MiChartView::seriesCount() const { return static_cast<int>(chart()->series().size()); }

void MiChartView::setCurves(const QString& title, const QString& y_label, const std::vector<RunCurve>& curves) {
  QChart* c = chart();
  c->removeAllSeries();
  for (auto* axis : c->axes()) {
    c->removeAxis(axis);
    delete axis;
  }
  c->setTitle(title);
  auto* x = new QValueAxis;
  x->setTitleText(QStringLiteral("epoch"));
  x->setLabelFormat(QStringLiteral("%d"));
  auto* y = new QValueAxis;
  y->setTitleText(y_label);
  c->addAxis(x, Qt::AlignBottom);
  c->addAxis(y, Qt::AlignLeft);
  // Tableau-10: distinct under the usual colour-vision deficiencies.
  static const QColor palette[] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f,
                                   0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac};
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  int max_epoch = 1;
  for (std::size_t ci = 0; ci < curves.size(); ++ci) {
    const auto& curve = curves[ci];
    // A gap (undefined value) starts a new segment with the same name.
    QLineSeries* s = nullptr;
    bool first_segment = true;
    for (const auto& p : curve.points) {
      if (!p.value || !std::isfinite(*p.value)) {
        s = nullptr;
        continue;
      }
      if (s == nullptr) {
        s = new QLineSeries;
        s->setName(curve.label);
        QPen pen(palette[ci % (sizeof palette / sizeof palette[0])]);
        pen.setWidthF(2.0);
        if (!curve.sdmi_family) pen.setStyle(Qt::DashLine);
        s->setPen(pen);
        c->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
        if (!first_segment && !c->legend()->markers(s).isEmpty()) c->legend()->markers(s).front()->setVisible(false);
        first_segment = false;
      }
      s->append(p.epoch, *p.value);
      lo = std::min(lo, *p.value);
      hi = std::max(hi, *p.value);
      max_epoch = std::max(max_epoch, p.epoch);
    }
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  const double pad = std::max(1e-6, 0.05 * (hi - lo));
  x->setRange(1, max_epoch);
  y->setRange(lo - pad, hi + pad);
}

}  // namespace ssrl::viz
