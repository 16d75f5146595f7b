#pragma once
// A Qt Charts view of one metric over epochs, one series per run (and per
// phase where a run has several). Points arrive live or in bulk; live points
// are buffered and drawn by flush(), which the owner calls on a timer, so a
// fast run never floods the event loop. A hidden chart draws its buffered
// points when it is shown. Axes change only when a point falls outside them
// (relaying out a chart's labels costs more than drawing its lines).

#include <QHash>
#include <QString>
#include <QtCharts/QChartView>

#include <optional>
#include <vector>

class QLineSeries;
class QValueAxis;

namespace ssrl::viz {

struct CurvePoint {
  int epoch = 0;
  std::optional<double> value;  // missing values leave a gap
};

struct CurveStyle {
  QString label;
  bool dashed = false;  // JMI family dashed, SDMI family solid
  int colour = 0;       // index into the palette
};

class MetricChart : public QChartView {
  Q_OBJECT
 public:
  MetricChart(const QString& title, const QString& y_label, QWidget* parent = nullptr);

  QString title() const { return title_; }
  void clear();
  // A curve is addressed by a key (run id, run id + phase, ...).
  void addCurve(const QString& key, const CurveStyle& style);
  bool hasCurve(const QString& key) const { return curves_.contains(key); }
  void setPoints(const QString& key, const std::vector<CurvePoint>& points);
  void appendPoint(const QString& key, int epoch, std::optional<double> value);
  // The epochs a live run will have: the x axis grows towards them in 2-5-10 steps.
  void setEpochSpan(int epochs);
  // Draws buffered points and rescales the axes where they no longer fit.
  void flush();
  bool hasPending() const { return pending_ > 0 || axes_dirty_; }
  // Points drawn so far (gaps not counted).
  int pointCount(const QString& key) const;
  int curveCount() const { return curves_.size(); }

  static QColor colour(int index);

 private:
  struct Curve {
    CurveStyle style;
    std::vector<QLineSeries*> segments;
    bool gap = true;  // the next point starts a new segment
    QList<QPointF> pending;
    std::vector<bool> pending_breaks;  // a gap before pending[i]
    int points = 0;
    int last_epoch = 0;  // later points only: a point never arrives twice
  };
  QLineSeries* newSegment(Curve& c, bool first);
  void extend(double x, double y);
  void fitX();
  void showEvent(QShowEvent* event) override;

  QString title_;
  QValueAxis* x_ = nullptr;
  QValueAxis* y_ = nullptr;
  QHash<QString, Curve> curves_;
  double lo_, hi_;                  // data range
  double shown_lo_ = 0, shown_hi_ = 0;  // y axis range
  int max_epoch_ = 1;
  int span_ = 0;      // planned epochs of a live run
  int x_right_ = 0;   // x axis range is [1, x_right_]
  int pending_ = 0;   // buffered points
  bool axes_dirty_ = false;
};

}  // namespace ssrl::viz
