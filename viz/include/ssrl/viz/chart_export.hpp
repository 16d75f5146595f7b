#pragma once
// Renders charts into PNG or SVG files, one chart or a grid of them.

#include <QSize>
#include <QString>
#include <vector>

class QChartView;

namespace ssrl::viz {

// The format follows the file suffix (.png or .svg). `size` is the whole
// figure in pixels; charts are laid out `columns` to a row; `dpi` is stored
// in the file and scales the text (96 = as on screen). Returns false and
// sets *error when the file cannot be written.
bool export_charts(const std::vector<QChartView*>& charts, int columns, const QString& path, QSize size,
                   QString* error, double dpi = 96.0);

}  // namespace ssrl::viz
