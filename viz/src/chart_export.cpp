#include "ssrl/viz/chart_export.hpp"

#include <QBuffer>
#include <QFileInfo>
#include <QImage>
#include <QPainter>
#include <QSvgGenerator>
#include <QtCharts/QChartView>
#include <QtCharts/QLegend>

#include <algorithm>

#include "ssrl/output_file.hpp"

namespace ssrl::viz {
namespace {

// Lays the charts out at size / scale and paints them scaled up, so text
// grows with the requested resolution.
void paint_grid(QPainter& p, const std::vector<QChartView*>& charts, int columns, QSize size, double scale) {
  const int n = static_cast<int>(charts.size());
  const int cols = std::max(1, std::min(columns, n));
  const int rows = (n + cols - 1) / cols;
  p.fillRect(QRectF(0, 0, size.width(), size.height()), Qt::white);
  p.scale(scale, scale);
  const double w = size.width() / scale / cols, h = size.height() / scale / rows;
  for (int i = 0; i < n; ++i) {
    const QRectF target((i % cols) * w, (i / cols) * h, w, h);
    QChart* chart = charts[static_cast<std::size_t>(i)]->chart();
    // Render the chart at the cell's size so text keeps its size in the file.
    // A file carries its own legend, also where the window shows a shared one.
    const QSizeF old = chart->size();
    const bool legend = chart->legend()->isVisible();
    chart->legend()->show();
    chart->resize(target.size());
    chart->scene()->render(&p, target, QRectF(QPointF(0, 0), target.size()));
    chart->resize(old);
    chart->legend()->setVisible(legend);
  }
}

}  // namespace

bool export_charts(const std::vector<QChartView*>& charts, int columns, const QString& path, QSize size,
                   QString* error, double dpi) {
  auto fail = [&](const QString& why) {
    if (error != nullptr) *error = why;
    return false;
  };
  if (charts.empty()) return fail(QStringLiteral("no chart to export"));
  if (size.width() < 16 || size.height() < 16 || size.width() > 20000 || size.height() > 20000)
    return fail(QStringLiteral("figure size %1 x %2 is outside 16..20000 pixels").arg(size.width()).arg(size.height()));
  if (!(dpi >= 24 && dpi <= 2400)) return fail(QStringLiteral("dpi %1 is outside 24..2400").arg(dpi));
  const double scale = dpi / 96.0;
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix != QLatin1String("svg") && suffix != QLatin1String("png"))
    return fail(QStringLiteral("unknown figure format '.%1' (accepted: .png, .svg)").arg(suffix));
  try {
    check_output_file(path.toStdString());  // before painting: a bad path fails at once
  } catch (const std::exception& e) {
    return fail(QString::fromStdString(e.what()));
  }
  // Painted into memory, then written by the one atomic writer.
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  if (suffix == QLatin1String("svg")) {
    QSvgGenerator svg;
    svg.setOutputDevice(&buffer);
    svg.setSize(size);
    svg.setViewBox(QRect(QPoint(0, 0), size));
    svg.setTitle(QStringLiteral("SSRL Workbench"));
    svg.setResolution(static_cast<int>(dpi));
    QPainter p;
    if (!p.begin(&svg)) return fail(QStringLiteral("cannot paint %1").arg(path));
    paint_grid(p, charts, columns, size, scale);
    p.end();
  } else {
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    const int dpm = static_cast<int>(dpi / 0.0254 + 0.5);
    image.setDotsPerMeterX(dpm);
    image.setDotsPerMeterY(dpm);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    paint_grid(p, charts, columns, size, scale);
    p.end();
    if (!image.save(&buffer, "PNG")) return fail(QStringLiteral("cannot encode %1").arg(path));
  }
  try {
    write_output_file(path.toStdString(), std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
  } catch (const std::exception& e) {
    return fail(QString::fromStdString(e.what()));
  }
  return true;
}

}  // namespace ssrl::viz
