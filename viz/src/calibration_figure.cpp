#include "ssrl/viz/calibration_figure.hpp"

#include <QFileInfo>
#include <QPen>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>

#include <algorithm>
#include <cmath>
#include <set>

#include "ssrl/errors.hpp"
#include "ssrl/viz/chart_export.hpp"
#include "ssrl/viz/metric_chart.hpp"

namespace ssrl::viz {
namespace {

const char* title_of(const std::string& estimator) {
  return estimator == "cos_dv" ? "cos-DV" : estimator == "infonce" ? "InfoNCE" : "JSD";
}

QLineSeries* line(QChart* chart, QPointF a, QPointF b, QColor colour, Qt::PenStyle style, const QString& name) {
  auto* s = new QLineSeries;
  s->append(a);
  s->append(b);
  s->setName(name);
  QPen pen(colour);
  pen.setWidthF(1.2);
  pen.setStyle(style);
  s->setPen(pen);
  chart->addSeries(s);
  return s;
}

std::unique_ptr<QChartView> panel(const std::vector<CalibrationRow>& rows, const std::string& estimator,
                                  const std::string& critic) {
  auto* chart = new QChart;
  chart->setTitle(QStringLiteral("%1, %2").arg(QString::fromLatin1(title_of(estimator)),
                                               critic == "cosine" ? QStringLiteral("cosine critic (t = 1)")
                                                                  : QStringLiteral("best t of the grid")));
  std::set<std::int64_t> sizes;
  double lo = 0, hi = 0;
  bool first = true;
  for (const auto& r : rows) {
    if (r.estimator != estimator || r.critic != critic) continue;
    sizes.insert(r.n);
    for (double v : {r.truth, r.mean}) {
      lo = first ? v : std::min(lo, v);
      hi = first ? v : std::max(hi, v);
      first = false;
    }
  }
  if (estimator == "infonce")
    for (auto n : sizes) hi = std::max(hi, std::log(static_cast<double>(n)));
  // Round to a step of 1, 2 or 5 x 10^k with about five intervals.
  const double raw = std::max(1e-3, hi - lo) / 5.0;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / mag <= 1 ? mag : raw / mag <= 2 ? 2 * mag : raw / mag <= 5 ? 5 * mag : 10 * mag;
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  const int ticks = static_cast<int>(std::lround((hi - lo) / step)) + 1;
  std::vector<QAbstractSeries*> all;
  std::vector<QAbstractSeries*> unlisted;  // legend: one entry per N
  all.push_back(line(chart, {lo, lo}, {hi, hi}, QColor(120, 120, 120), Qt::DashLine, QStringLiteral("estimate = target")));
  unlisted.push_back(all.back());
  int colour = 0;
  for (auto n : sizes) {
    const QColor c = MetricChart::colour(colour++);
    if (estimator == "infonce") {
      auto* ceiling = line(chart, {lo, std::log(static_cast<double>(n))}, {hi, std::log(static_cast<double>(n))}, c,
                           Qt::DotLine, QStringLiteral("log %1").arg(n));
      all.push_back(ceiling);
      unlisted.push_back(ceiling);
    }
    for (const char* family : {"vmf", "gaussian"}) {
      auto* s = new QScatterSeries;
      s->setName(QStringLiteral("N=%1").arg(n));
      s->setMarkerShape(std::string(family) == "vmf" ? QScatterSeries::MarkerShapeCircle
                                                     : QScatterSeries::MarkerShapeRectangle);
      s->setMarkerSize(9);
      s->setColor(c);
      s->setBorderColor(c.darker(130));
      for (const auto& r : rows)
        if (r.estimator == estimator && r.critic == critic && r.n == n && r.family == family) s->append(r.truth, r.mean);
      chart->addSeries(s);
      all.push_back(s);
      if (std::string(family) == "gaussian") unlisted.push_back(s);
    }
  }
  auto* x = new QValueAxis;
  x->setTitleText(estimator == "jsd" ? QStringLiteral("target: 2 JSD - log 4 (nats)") : QStringLiteral("true MI (nats)"));
  x->setRange(lo, hi);
  auto* y = new QValueAxis;
  y->setTitleText(QStringLiteral("mean estimate (nats)"));
  y->setRange(lo, hi);
  x->setTickCount(ticks);
  y->setTickCount(ticks);
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  for (auto* s : all) {
    s->attachAxis(x);
    s->attachAxis(y);
  }
  for (auto* s : unlisted)
    for (auto* m : chart->legend()->markers(s)) m->setVisible(false);
  chart->legend()->setAlignment(Qt::AlignBottom);
  QFont f = chart->legend()->font();
  f.setPointSizeF(f.pointSizeF() * 0.85);
  chart->legend()->setFont(f);
  auto view = std::make_unique<QChartView>(chart);
  view->setRenderHint(QPainter::Antialiasing);
  return view;
}

}  // namespace

std::vector<std::unique_ptr<QChartView>> calibration_charts(const std::vector<CalibrationRow>& rows) {
  std::vector<std::unique_ptr<QChartView>> out;
  for (const char* critic : {"best t", "cosine"})
    for (const char* est : {"cos_dv", "infonce", "jsd"}) out.push_back(panel(rows, est, critic));
  return out;
}

void write_calibration_figure(const std::vector<CalibrationRow>& rows, const std::string& path, const FigureOptions& opt) {
  if (rows.empty()) throw ConfigError("input", "no calibration results to draw");
  const std::string suffix = QFileInfo(QString::fromStdString(path)).suffix().toLower().toStdString();
  if (suffix != "png" && suffix != "svg") throw ConfigError("out", "'" + path + "': this figure is written as .png or .svg");
  const auto charts = calibration_charts(rows);
  std::vector<QChartView*> views;
  for (const auto& c : charts) views.push_back(c.get());
  QString error;
  if (!export_charts(views, 3, QString::fromStdString(path), QSize(opt.width, opt.height), &error, opt.dpi))
    throw Error("cannot write figure '" + path + "': " + error.toStdString());
}

}  // namespace ssrl::viz
