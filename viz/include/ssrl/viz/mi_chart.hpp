#pragma once
// A Qt Charts view of one MI estimator over epochs, one series per run.

#include <QString>
#include <QtCharts/QChartView>

#include <optional>
#include <vector>

namespace ssrl::viz {

struct CurvePoint {
  int epoch = 0;
  std::optional<double> value;  // missing values leave a gap
};

struct RunCurve {
  QString label;
  bool sdmi_family = false;  // drawn solid; JMI family dashed
  std::vector<CurvePoint> points;
};

class MiChartView : public QChartView {
  Q_OBJECT
 public:
  explicit MiChartView(QWidget* parent = nullptr);
  void setCurves(const QString& title, const QString& y_label, const std::vector<RunCurve>& curves);
  int seriesCount() const;
};

}  // namespace ssrl::viz
