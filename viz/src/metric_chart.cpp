#include "ssrl/viz/metric_chart.hpp"

#include <QCursor>
#include <QPen>
#include <QToolTip>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ssrl::viz {

QColor MetricChart::colour(int index) {
  // Tableau-10: distinct under the common colour-vision deficiencies.
  static const QRgb palette[] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f,
                                 0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac};
  const int n = static_cast<int>(sizeof palette / sizeof palette[0]);
  return QColor(palette[((index % n) + n) % n]);
}

MetricChart::MetricChart(const QString& title, const QString& y_label, QWidget* parent)
    : QChartView(new QChart(), parent), title_(title) {
  setRenderHint(QPainter::Antialiasing);
  chart()->setTitle(title);
  chart()->legend()->setAlignment(Qt::AlignBottom);
  chart()->setMargins(QMargins(4, 4, 4, 4));
  x_ = new QValueAxis;
  x_->setTitleText(QStringLiteral("epoch"));
  x_->setLabelFormat(QStringLiteral("%d"));
  y_ = new QValueAxis;
  y_->setTitleText(y_label);
  chart()->addAxis(x_, Qt::AlignBottom);
  chart()->addAxis(y_, Qt::AlignLeft);
  clear();
}

void MetricChart::clear() {
  chart()->removeAllSeries();
  curves_.clear();
  lo_ = std::numeric_limits<double>::infinity();
  hi_ = -lo_;
  max_epoch_ = 1;
  span_ = 0;
  axes_dirty_ = false;
  pending_ = 0;
  x_right_ = 2;
  x_->setRange(1, 2);
  // Whole epochs only, also before the first point (five default ticks
  // over 1..2 read "1 1 1 1 2").
  x_->setTickType(QValueAxis::TicksDynamic);
  x_->setTickAnchor(0);
  x_->setTickInterval(1);
  y_->setRange(0, 1);
  shown_lo_ = std::numeric_limits<double>::infinity();
  shown_hi_ = -shown_lo_;
}

void MetricChart::addCurve(const QString& key, const CurveStyle& style) {
  if (curves_.contains(key)) return;
  Curve c;
  c.style = style;
  curves_.insert(key, c);
}

QLineSeries* MetricChart::newSegment(Curve& c, bool first) {
  auto* s = new QLineSeries;
  s->setName(c.style.label);
  QPen pen(colour(c.style.colour));
  pen.setWidthF(2.0);
  if (c.style.dashed) pen.setStyle(Qt::DashLine);
  s->setPen(pen);
  chart()->addSeries(s);
  s->attachAxis(x_);
  s->attachAxis(y_);
  // One legend entry per curve, whatever its gaps.
  if (!first)
    for (auto* m : chart()->legend()->markers(s)) m->setVisible(false);
  const QString label = c.style.label;
  connect(s, &QLineSeries::hovered, this, [label](const QPointF& p, bool state) {
    if (state)
      QToolTip::showText(QCursor::pos(), QStringLiteral("%1\nepoch %2: %3").arg(label).arg(std::lround(p.x())).arg(p.y(), 0, 'g', 5));
    else
      QToolTip::hideText();
  });
  c.segments.push_back(s);
  return s;
}

void MetricChart::extend(double x, double y) {
  lo_ = std::min(lo_, y);
  hi_ = std::max(hi_, y);
  max_epoch_ = std::max(max_epoch_, static_cast<int>(x));
}

void MetricChart::setPoints(const QString& key, const std::vector<CurvePoint>& points) {
  for (const auto& p : points) appendPoint(key, p.epoch, p.value);
  flush();
}

void MetricChart::appendPoint(const QString& key, int epoch, std::optional<double> value) {
  auto it = curves_.find(key);
  if (it == curves_.end()) return;
  Curve& c = it.value();
  if (epoch <= c.last_epoch) return;
  c.last_epoch = epoch;
  if (!value || !std::isfinite(*value)) {
    c.gap = true;
    return;
  }
  c.pending.append(QPointF(epoch, *value));
  c.pending_breaks.push_back(c.gap);
  c.gap = false;
  ++pending_;
}

void MetricChart::setEpochSpan(int epochs) {
  span_ = std::max(span_, epochs);
  axes_dirty_ = true;  // applied by the next flush, with the chart's other changes
}

// A stored run's axis ends at its last epoch. A live run's axis grows in
// 2-5-10 steps up to its planned epochs: a handful of relayouts per run, and
// a long run's first epochs are not squeezed against the left edge.
void MetricChart::fitX() {
  int right = std::max(2, max_epoch_);
  if (span_ > right) {
    long long nice = 2;
    for (long long m = 1; nice < right; m *= 10)
      for (long long d : {2, 5, 10})
        if (nice < right) nice = d * m;
    right = static_cast<int>(std::min<long long>(nice, span_));
  }
  if (right == x_right_) return;
  x_right_ = right;
  x_->setRange(1, right);
  // Whole-epoch ticks at a round step, about six of them.
  int step = 1;
  for (int candidate : {1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000}) {
    step = candidate;
    if ((right - 1) / candidate <= 6) break;
  }
  x_->setTickInterval(step);
}

void MetricChart::showEvent(QShowEvent* event) {
  QChartView::showEvent(event);
  flush();  // points that arrived while hidden
}

void MetricChart::flush() {
  bool changed = false;
  for (auto it = curves_.begin(); it != curves_.end(); ++it) {
    Curve& c = it.value();
    if (c.pending.isEmpty()) continue;
    changed = true;
    QList<QPointF> run;
    auto emit_run = [&] {
      if (!run.isEmpty()) c.segments.back()->append(run);
      run.clear();
    };
    for (int i = 0; i < c.pending.size(); ++i) {
      if (c.pending_breaks[static_cast<std::size_t>(i)] || c.segments.empty()) {
        emit_run();
        newSegment(c, c.segments.empty());
      }
      run.append(c.pending[i]);
      extend(c.pending[i].x(), c.pending[i].y());
      ++c.points;
    }
    emit_run();
    c.pending.clear();
    c.pending_breaks.clear();
  }
  pending_ = 0;
  if (!changed && !axes_dirty_) return;
  axes_dirty_ = false;
  fitX();
  if (std::isfinite(lo_) && (lo_ < shown_lo_ || hi_ > shown_hi_)) {
    // A near-flat curve (a collapsed run's MI, an early kNN accuracy) keeps
    // a readable span instead of magnifying noise in the fourth digit.
    const double pad = std::max({0.05 * (hi_ - lo_), 0.05 * std::max(std::abs(lo_), std::abs(hi_)), 1e-3});
    y_->setRange(lo_ - pad, hi_ + pad);
    y_->applyNiceNumbers();
    shown_lo_ = y_->min();
    shown_hi_ = y_->max();
  }
}

int MetricChart::pointCount(const QString& key) const {
  const auto it = curves_.find(key);
  return it == curves_.end() ? 0 : it->points;
}

}  // namespace ssrl::viz
