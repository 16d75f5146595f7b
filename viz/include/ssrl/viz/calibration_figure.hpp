#pragma once
// The MI calibration figure (`reproduce mi-calibration`, `export figure
// --kind mi-calibration`, the GUI's Help menu): each estimator's mean
// estimate against the quantity it bounds, a panel per estimator and critic,
// the log N ceiling of InfoNCE drawn for every batch size.

#include <memory>
#include <string>
#include <vector>

#include "ssrl/calibration.hpp"
#include "ssrl/viz/figures.hpp"

class QChartView;

namespace ssrl::viz {

// Six charts: cos-DV, InfoNCE, JSD with the best temperature, then with the
// plain cosine critic (t = 1, as the MI panels of a run use).
std::vector<std::unique_ptr<QChartView>> calibration_charts(const std::vector<CalibrationRow>& rows);

// PNG or SVG by the suffix; throws ssrl::Error when it cannot be written.
void write_calibration_figure(const std::vector<CalibrationRow>& rows, const std::string& path, const FigureOptions& opt);

}  // namespace ssrl::viz
