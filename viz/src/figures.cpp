#include "ssrl/viz/figures.hpp"

#include <QBuffer>
#include <QFileInfo>
#include <QFont>
#include <QImage>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"
#include "ssrl/output_file.hpp"
#include "ssrl/storage/report.hpp"
#include "ssrl/viz/chart_export.hpp"
#include "ssrl/viz/metric_chart.hpp"

namespace ssrl::viz {
namespace {

std::vector<std::vector<Vec3>> centres_of(const storage::RunDetail& run, const std::string& encoder) {
  std::vector<std::vector<Vec3>> out;
  for (const auto& e : run.epochs)
    for (const auto& ec : e.centres)
      if (ec.encoder == encoder) out.push_back(ec.centres);
  return out;
}

std::vector<std::string> encoders_of(const storage::RunDetail& run) {
  std::vector<std::string> names;
  if (!run.epochs.empty())
    for (const auto& ec : run.epochs.back().centres) names.push_back(ec.encoder);
  return names;
}

// Which settings a run came from: its preset, or else the settings the
// paper's toy runs and the workbench's defaults differ in.
std::string settings_of(const storage::RunDetail& run) {
  const auto cfg = nlohmann::json::parse(run.run.config_json, nullptr, /*allow_exceptions=*/false);
  if (!cfg.is_object()) return "";
  if (cfg.contains("preset") && cfg["preset"].is_string() && !cfg["preset"].get<std::string>().empty())
    return cfg["preset"].get<std::string>();
  std::string out;
  for (const char* key : {"batch_size", "momentum", "temperature"})
    if (cfg.contains(key) && cfg[key].is_number()) out += (out.empty() ? "" : ", ") + std::string(key) + " " + cfg[key].dump();
  return out;
}

std::string label(const storage::RunDetail& run) {
  const std::string s = settings_of(run);
  return run.run.method + " #" + std::to_string(run.run.id) + (s.empty() ? "" : " [" + s + "]");
}

std::optional<SeparationStats> stats_of(const storage::RunDetail& run, const std::string& encoder) {
  for (const auto& f : run.finals)
    if (f.encoder == encoder) return f.separation;
  return std::nullopt;
}

void check_suffix(const std::string& path, std::initializer_list<const char*> accepted) {
  const std::string suffix = QFileInfo(QString::fromStdString(path)).suffix().toLower().toStdString();
  std::string list;
  for (const char* a : accepted) {
    if (suffix == a) return;
    list += (list.empty() ? "." : ", .") + std::string(a);
  }
  throw ConfigError("out", "'" + path + "': this figure is written as " + list);
}

void check_size(const FigureOptions& opt) {
  if (opt.width < 16 || opt.height < 16 || opt.width > 16384 || opt.height > 16384)
    throw ConfigError("width", "figure size " + std::to_string(opt.width) + " x " + std::to_string(opt.height) +
                                   " is outside 16..16384 pixels");
  if (!(opt.dpi >= 24 && opt.dpi <= 2400)) throw ConfigError("dpi", "must be in [24, 2400]");
}

}  // namespace

SphereFigure trajectory_figure(const storage::RunDetail& run, const std::vector<const storage::RunDetail*>& overlays) {
  SphereFigure fig;
  for (const auto& enc : encoders_of(run)) {
    SpherePanel p;
    p.title = label(run) + " — encoder " + enc + " (" + std::to_string(run.epochs.size()) + " epochs)";
    p.runs.push_back({label(run) + " " + enc, centres_of(run, enc), false});
    for (const auto* other : overlays) {
      auto c = centres_of(*other, enc);
      if (c.empty()) c = centres_of(*other, "f");
      p.runs.push_back({label(*other) + " " + enc, c, true});
    }
    p.stats = stats_of(run, enc);
    fig.panels.push_back(std::move(p));
  }
  return fig;
}

SphereFigure snapshot_figure(const storage::RunDetail& run, const std::vector<int>& epochs) {
  SphereFigure fig;
  std::vector<int> chosen;
  for (int e : epochs)
    if (e >= 1 && e <= static_cast<int>(run.epochs.size())) chosen.push_back(e);
  if (chosen.empty()) throw ConfigError("epochs", "none of the snapshot epochs lies within the run's " +
                                                       std::to_string(run.epochs.size()) + " epochs");
  fig.columns = static_cast<int>(chosen.size());
  for (const auto& enc : encoders_of(run)) {
    const auto c = centres_of(run, enc);
    for (int e : chosen) {
      SpherePanel p;
      p.title = label(run) + " " + enc + " — epoch " + std::to_string(e);
      p.runs.push_back({label(run) + " " + enc, c, false});
      p.upto_epoch = e;
      p.legend = e == chosen.back();
      p.stats = separation_stats(c[static_cast<std::size_t>(e - 1)]);
      fig.panels.push_back(std::move(p));
    }
  }
  return fig;
}

void write_sphere_figure(const SphereFigure& figure, const std::string& path, const FigureOptions& opt) {
  check_suffix(path, {"png"});
  check_size(opt);
  check_output_file(path);
  SphereFigure scaled = figure;
  scaled.font_scale = figure.font_scale * opt.dpi / 96.0;
  const RenderedImage img = render_offscreen(scaled, opt.width, opt.height);
  QImage q(img.rgb.data(), img.width, img.height, img.width * 3, QImage::Format_RGB888);
  QImage copy = q.copy();
  const int dpm = static_cast<int>(opt.dpi / 0.0254 + 0.5);
  copy.setDotsPerMeterX(dpm);
  copy.setDotsPerMeterY(dpm);
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  if (!copy.save(&buffer, "PNG")) throw Error("cannot encode '" + path + "'");
  write_output_file(path, std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
}

void write_mi_figure(const std::vector<storage::RunDetail>& runs, const std::string& estimator,
                     const std::string& path, const FigureOptions& opt) {
  check_suffix(path, {"png", "svg"});
  check_size(opt);
  struct Est {
    const char* key;
    const char* title;
  };
  const std::vector<Est> all = {{"cos_dv", "cos-DV"}, {"infonce", "InfoNCE"}, {"jsd", "JSD"}};
  auto value = [](const EpochRecord& e, const std::string& key) {
    return key == "cos_dv" ? e.mi.cos_dv : key == "infonce" ? e.mi.infonce : e.mi.jsd;
  };
  // One curve per method: the mean over its runs (seeds) at each epoch.
  struct Curve {
    std::string label, paradigm;
    std::vector<const storage::RunDetail*> runs;
  };
  std::vector<Curve> curves;
  for (const auto& run : runs) {
    auto it = std::find_if(curves.begin(), curves.end(), [&](const Curve& c) { return c.label == run.run.method; });
    if (it == curves.end()) {
      curves.push_back({run.run.method, run.run.paradigm, {}});
      it = curves.end() - 1;
    }
    it->runs.push_back(&run);
  }
  if (runs.size() == 1) curves.front().label = label(runs.front());
  // Every panel title names the settings (presets) its runs came from.
  std::string from;
  for (const auto& run : runs) {
    const std::string s = settings_of(run);
    if (!s.empty() && from.find(s) == std::string::npos) from += (from.empty() ? "" : "; ") + s;
  }
  const QString suffix = from.empty() ? QString() : QStringLiteral(" [%1]").arg(QString::fromStdString(from));
  auto mean_points = [&](const Curve& c, const std::string& key) {
    std::map<int, std::pair<double, int>> acc;
    for (const auto* r : c.runs)
      for (const auto& e : r->epochs)
        if (const auto v = value(e, key)) acc[e.epoch].first += *v, acc[e.epoch].second += 1;
    std::vector<CurvePoint> pts;
    int last = 0;
    for (const auto& [epoch, sum] : acc) {
      if (epoch > last + 1) pts.push_back({last + 1, std::nullopt});  // a gap (SimSiam's first epoch)
      pts.push_back({epoch, sum.first / sum.second});
      last = epoch;
    }
    return pts;
  };
  auto curve_label = [](const Curve& c) {
    return c.runs.size() > 1 ? QStringLiteral("%1 (mean of %2)").arg(QString::fromStdString(c.label)).arg(c.runs.size())
                             : QString::fromStdString(c.label);
  };
  std::vector<std::unique_ptr<MetricChart>> charts;
  if (estimator == "all") {
    for (const auto& est : all) {
      auto c = std::make_unique<MetricChart>(QStringLiteral("%1 bound (validation)").arg(QString::fromLatin1(est.title)) + suffix,
                                             QStringLiteral("nats"));
      int colour = 0;
      for (const auto& curve : curves) {
        const QString key = QString::fromStdString(curve.label);
        c->addCurve(key, {curve_label(curve), curve.paradigm != "SDMI", colour++});
        c->setPoints(key, mean_points(curve, est.key));
      }
      charts.push_back(std::move(c));
    }
  } else {
    const Est* est = nullptr;
    for (const auto& e : all)
      if (estimator == e.key) est = &e;
    if (est == nullptr) throw ConfigError("estimator", "unknown estimator '" + estimator + "' (accepted: cos_dv, infonce, jsd, all)");
    for (const char* family : {"SDMI", "JMI"}) {
      // An empty panel only draws a broken axis (the ablation is all SDMI).
      if (std::none_of(curves.begin(), curves.end(), [&](const Curve& c) { return c.paradigm == family; })) continue;
      auto c = std::make_unique<MetricChart>(
          QStringLiteral("%1 bound — %2 family").arg(QString::fromLatin1(est->title), QString::fromLatin1(family)) + suffix,
          QStringLiteral("nats"));
      int colour = 0;
      for (const auto& curve : curves) {
        if (curve.paradigm != family) continue;
        const QString key = QString::fromStdString(curve.label);
        c->addCurve(key, {curve_label(curve), std::string(family) == "JMI", colour++});
        c->setPoints(key, mean_points(curve, est->key));
      }
      charts.push_back(std::move(c));
    }
  }
  for (auto& c : charts) c->chart()->legend()->setAlignment(curves.size() > 4 ? Qt::AlignRight : Qt::AlignBottom);
  std::vector<QChartView*> views;
  for (auto& c : charts) {
    c->resize(600, 400);
    views.push_back(c.get());
  }
  QString error;
  if (!export_charts(views, 3, QString::fromStdString(path), QSize(opt.width, opt.height), &error, opt.dpi))
    throw Error(error.toStdString());
}

void write_ablation_figure(const std::vector<storage::RunRow>& runs, const std::string& path,
                           const FigureOptions& opt) {
  check_suffix(path, {"png", "svg"});
  check_size(opt);
  struct Bar {
    std::string method, encoder, label;
  };
  const std::vector<Bar> bars = {{"sdmi", "f", "SDMI f"},
                                 {"sdmi", "g", "SDMI g"},
                                 {"sdmi-nodv", "f", "NoDV f"},
                                 {"sdmi-nodv", "g", "NoDV g"},
                                 {"sdmi-nodv-pred", "f", "NoDV-Pred f"},
                                 {"sdmi-nodv-pred", "g", "NoDV-Pred g"},
                                 {"simsiam", "f", "SimSiam"},
                                 {"simsiam-nopred", "f", "SimSiam-NoPred"},
                                 {"simsiam-sdmi", "f", "SimSiam-SDMI"}};
  // Image data: linear-probe accuracy; the Gaussian experiment: separation.
  const bool probes = std::any_of(runs.begin(), runs.end(), [](const storage::RunRow& r) { return !r.probes.empty(); });
  auto* set = new QBarSet(QString());  // labelled once the seeds are counted
  set->setColor(MetricChart::colour(0));
  QStringList categories;
  std::vector<double> means, sds;
  int found = 0, seeds = 0;
  double top = 90.0;
  for (const auto& b : bars) {
    std::vector<double> v;
    for (const auto& r : runs) {
      if (r.method != b.method || r.status != "finished") continue;
      if (probes) {
        for (const auto& p : r.probes)
          if (p.encoder == b.encoder) v.push_back(100.0 * p.top1);
      } else {
        for (const auto& f : r.finals)
          if (f.encoder == b.encoder) v.push_back(f.separation.min);
      }
    }
    const auto stats = storage::Cell::stats(v, 1);
    const double mean = stats.mean.value_or(0.0), sd = stats.sd.value_or(0.0);
    found += !v.empty();
    top = std::max(top, mean + sd);
    set->append(mean);
    means.push_back(mean);
    sds.push_back(sd);
    seeds = std::max(seeds, static_cast<int>(v.size()));
    categories << (v.empty() ? QStringLiteral("%1 (none)").arg(QString::fromStdString(b.label))
                             : QString::fromStdString(b.label));
  }
  if (found == 0) {
    delete set;
    throw ConfigError("runs", "no finished run of the ablation methods (sdmi, sdmi-nodv, sdmi-nodv-pred, simsiam, "
                              "simsiam-nopred, simsiam-sdmi) in the selection");
  }
  auto* series = new QBarSeries;
  series->append(set);
  series->setLabelsVisible(true);
  series->setLabelsFormat(probes ? QStringLiteral("@value%") : QStringLiteral("@value°"));
  series->setLabelsPrecision(3);
  const QString over = seeds > 1 ? QStringLiteral("mean over up to %1 seeds, bars ± SD").arg(seeds) : QStringLiteral("one seed");
  set->setLabel(probes ? QStringLiteral("linear-probe top-1 (%): %1").arg(over)
                       : QStringLiteral("min nearest-neighbour angle (°): %1").arg(over));
  // The untrained encoder is the floor every trained one must clear.
  std::vector<double> floor;
  for (const auto& r : runs)
    if (r.method == "random-init" && r.status == "finished")
      for (const auto& p : r.probes) floor.push_back(100.0 * p.top1);
  series->setLabelsPosition(QAbstractBarSeries::LabelsInsideEnd);
  QChartView view;
  view.setRenderHint(QPainter::Antialiasing);
  QChart* chart = view.chart();
  chart->addSeries(series);
  chart->setTitle(probes ? QStringLiteral("Ablation: linear-probe accuracy of the frozen encoders")
                         : QStringLiteral("Ablation on the Gaussian mixture: cluster separation (optimum 90°)"));
  auto* x = new QBarCategoryAxis;
  x->append(categories);
  QFont small = x->labelsFont();  // nine categories: keep "SimSiam-NoPred" whole
  small.setPointSizeF(small.pointSizeF() * 0.85);
  x->setLabelsFont(small);
  auto* y = new QValueAxis;
  const double ymax = std::ceil(top / 10.0) * 10.0;
  y->setRange(0, probes ? 100.0 : ymax);
  y->setTickCount(probes ? 11 : static_cast<int>(ymax / 10.0) + 1);
  y->setLabelFormat(QStringLiteral("%.0f"));
  y->setTitleText(probes ? QStringLiteral("top-1 accuracy (%)") : QStringLiteral("degrees"));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  series->attachAxis(x);
  series->attachAxis(y);
  // Error bars (± SD over seeds) as short vertical lines on a value axis
  // aligned with the categories.
  auto* xe = new QValueAxis;
  xe->setRange(-0.5, static_cast<double>(means.size()) - 0.5);
  xe->setVisible(false);
  chart->addAxis(xe, Qt::AlignBottom);
  if (!floor.empty()) {
    const double mean = *storage::Cell::stats(floor, 1).mean;
    auto* line = new QLineSeries;
    line->setName(QStringLiteral("random-init encoder: %1%").arg(mean, 0, 'f', 1));
    line->append(-0.5, mean);
    line->append(static_cast<double>(means.size()) - 0.5, mean);
    QPen pen(QColor(200, 60, 60));
    pen.setWidthF(2.0);
    pen.setStyle(Qt::DashLine);
    line->setPen(pen);
    chart->addSeries(line);
    line->attachAxis(xe);
    line->attachAxis(y);
  }
  for (std::size_t i = 0; i < means.size(); ++i) {
    if (sds[i] <= 0) continue;
    auto* bar = new QLineSeries;
    bar->append(static_cast<double>(i), means[i] - sds[i]);
    bar->append(static_cast<double>(i), means[i] + sds[i]);
    QPen pen(QColor(40, 40, 40));
    pen.setWidthF(2.0);
    bar->setPen(pen);
    chart->addSeries(bar);
    bar->attachAxis(xe);
    bar->attachAxis(y);
    for (auto* m : chart->legend()->markers(bar)) m->setVisible(false);
  }
  chart->legend()->setAlignment(Qt::AlignBottom);
  view.resize(1000, 600);
  QString error;
  if (!export_charts({&view}, 1, QString::fromStdString(path), QSize(opt.width, opt.height), &error, opt.dpi))
    throw Error(error.toStdString());
}

}  // namespace ssrl::viz
