#include "sphere_scene.hpp"

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkLegendBoxActor.h>
#include <vtkNew.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRendererCollection.h>
#include <vtkSphereSource.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>
#include <vtkUnsignedCharArray.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ssrl::viz {

std::vector<Vec3> great_circle_arc(const Vec3& a, const Vec3& b, double step_deg) {
  const double dot = std::clamp(a.x * b.x + a.y * b.y + a.z * b.z, -1.0, 1.0);
  const double angle = std::acos(dot);
  const int n = std::max(1, static_cast<int>(std::ceil(angle * 180.0 / M_PI / std::max(0.1, step_deg))));
  std::vector<Vec3> out;
  out.reserve(static_cast<std::size_t>(n) + 1);
  if (angle < 1e-9) return {a, b};
  // An orthonormal direction from a towards b in the plane of the arc.
  Vec3 u{b.x - dot * a.x, b.y - dot * a.y, b.z - dot * a.z};
  double norm = std::sqrt(u.x * u.x + u.y * u.y + u.z * u.z);
  if (norm < 1e-9) {  // antipodal: any great circle will do; pick one deterministically
    u = std::abs(a.z) < 0.9 ? Vec3{-a.y, a.x, 0} : Vec3{0, -a.z, a.y};
    norm = std::sqrt(u.x * u.x + u.y * u.y + u.z * u.z);
  }
  u = {u.x / norm, u.y / norm, u.z / norm};
  for (int i = 0; i <= n; ++i) {
    const double t = angle * i / n;
    const double c = std::cos(t), s = std::sin(t);
    out.push_back({c * a.x + s * u.x, c * a.y + s * u.y, c * a.z + s * u.z});
  }
  return out;
}

double epoch_opacity(int epoch, int epochs) {
  if (epochs <= 1) return 1.0;
  const double f = static_cast<double>(epoch - 1) / (epochs - 1);
  return 0.25 + 0.75 * std::clamp(f, 0.0, 1.0);
}

void cluster_colour(int k, double rgb[3]) {
  static const unsigned palette[] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f,
                                     0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac};
  const unsigned c = palette[static_cast<unsigned>(k) % 10];
  rgb[0] = ((c >> 16) & 0xff) / 255.0;
  rgb[1] = ((c >> 8) & 0xff) / 255.0;
  rgb[2] = (c & 0xff) / 255.0;
}

namespace detail {
namespace {

constexpr double kTrackRadius = 1.012;

vtkSmartPointer<vtkActor> unit_sphere() {
  vtkNew<vtkSphereSource> src;
  src->SetRadius(1.0);
  src->SetThetaResolution(72);
  src->SetPhiResolution(48);
  vtkNew<vtkPolyDataMapper> mapper;
  mapper->SetInputConnection(src->GetOutputPort());
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  actor->GetProperty()->SetColor(0.80, 0.84, 0.90);
  actor->GetProperty()->SetOpacity(0.18);
  actor->GetProperty()->SetSpecular(0.0);
  return actor;
}

vtkSmartPointer<vtkActor> lat_long_grid() {
  vtkNew<vtkPoints> pts;
  vtkNew<vtkCellArray> lines;
  auto polyline = [&](const std::vector<Vec3>& ring) {
    const vtkIdType first = pts->GetNumberOfPoints();
    for (const auto& p : ring) pts->InsertNextPoint(p.x * 1.001, p.y * 1.001, p.z * 1.001);
    lines->InsertNextCell(static_cast<vtkIdType>(ring.size()));
    for (std::size_t i = 0; i < ring.size(); ++i) lines->InsertCellPoint(first + static_cast<vtkIdType>(i));
  };
  for (int lat = -60; lat <= 60; lat += 30) {
    std::vector<Vec3> ring;
    const double phi = lat * M_PI / 180.0;
    for (int i = 0; i <= 120; ++i) {
      const double th = 2 * M_PI * i / 120;
      ring.push_back({std::cos(phi) * std::cos(th), std::cos(phi) * std::sin(th), std::sin(phi)});
    }
    polyline(ring);
  }
  for (int lon = 0; lon < 180; lon += 30) {
    std::vector<Vec3> ring;
    const double th = lon * M_PI / 180.0;
    for (int i = 0; i <= 120; ++i) {
      const double phi = 2 * M_PI * i / 120;
      ring.push_back({std::cos(phi) * std::cos(th), std::cos(phi) * std::sin(th), std::sin(phi)});
    }
    polyline(ring);
  }
  vtkNew<vtkPolyData> poly;
  poly->SetPoints(pts);
  poly->SetLines(lines);
  vtkNew<vtkPolyDataMapper> mapper;
  mapper->SetInputData(poly);
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  actor->GetProperty()->SetColor(0.45, 0.50, 0.58);
  actor->GetProperty()->SetOpacity(0.35);
  actor->GetProperty()->SetLineWidth(1.0);
  actor->GetProperty()->LightingOff();
  return actor;
}

// One polyline per cluster along great circles, alpha rising with the epoch.
vtkSmartPointer<vtkActor> trajectories(const SphereTrajectories& run, int epochs) {
  vtkNew<vtkPoints> pts;
  vtkNew<vtkCellArray> lines;
  vtkNew<vtkUnsignedCharArray> colours;
  colours->SetNumberOfComponents(4);
  const int total = static_cast<int>(run.centres.size());
  const int clusters = total > 0 ? static_cast<int>(run.centres.front().size()) : 0;
  for (int k = 0; k < clusters; ++k) {
    double rgb[3];
    cluster_colour(k, rgb);
    for (int e = 1; e < epochs; ++e) {
      const auto arc = great_circle_arc(run.centres[static_cast<std::size_t>(e - 1)][static_cast<std::size_t>(k)],
                                        run.centres[static_cast<std::size_t>(e)][static_cast<std::size_t>(k)]);
      const vtkIdType first = pts->GetNumberOfPoints();
      for (const auto& p : arc) pts->InsertNextPoint(p.x * kTrackRadius, p.y * kTrackRadius, p.z * kTrackRadius);
      lines->InsertNextCell(static_cast<vtkIdType>(arc.size()));
      for (std::size_t i = 0; i < arc.size(); ++i) lines->InsertCellPoint(first + static_cast<vtkIdType>(i));
      const double alpha = epoch_opacity(e + 1, std::max(epochs, total)) * (run.overlay ? 0.8 : 1.0);
      colours->InsertNextTuple4(rgb[0] * 255, rgb[1] * 255, rgb[2] * 255, alpha * 255);
    }
  }
  vtkNew<vtkPolyData> poly;
  poly->SetPoints(pts);
  poly->SetLines(lines);
  poly->GetCellData()->SetScalars(colours);
  vtkNew<vtkPolyDataMapper> mapper;
  mapper->SetInputData(poly);
  mapper->SetScalarModeToUseCellData();
  mapper->SetColorModeToDirectScalars();
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  actor->GetProperty()->SetLineWidth(run.overlay ? 1.5f : 3.5f);
  actor->GetProperty()->LightingOff();
  return actor;
}

vtkSmartPointer<vtkActor> marker(const Vec3& c, double radius, const double rgb[3], double opacity, bool hollow) {
  vtkNew<vtkSphereSource> src;
  src->SetCenter(c.x * kTrackRadius, c.y * kTrackRadius, c.z * kTrackRadius);
  src->SetRadius(radius);
  src->SetThetaResolution(20);
  src->SetPhiResolution(14);
  vtkNew<vtkPolyDataMapper> mapper;
  mapper->SetInputConnection(src->GetOutputPort());
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  actor->GetProperty()->SetColor(rgb[0], rgb[1], rgb[2]);
  actor->GetProperty()->SetOpacity(opacity);
  actor->GetProperty()->SetAmbient(0.45);
  actor->GetProperty()->SetDiffuse(0.6);
  if (hollow) {
    actor->GetProperty()->SetRepresentationToWireframe();
    actor->GetProperty()->LightingOff();
  }
  return actor;
}

vtkSmartPointer<vtkTextActor> text(const std::string& s, double size, double x, double y, int justification,
                                   bool bold) {
  auto t = vtkSmartPointer<vtkTextActor>::New();
  t->SetInput(s.c_str());
  t->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
  t->GetPositionCoordinate()->SetValue(x, y);
  auto* p = t->GetTextProperty();
  p->SetFontSize(static_cast<int>(std::lround(size)));
  p->SetColor(0.15, 0.17, 0.2);
  p->SetBold(bold);
  p->SetJustification(justification);
  p->SetVerticalJustificationToTop();
  return t;
}

// `pw` x `ph`: the panel's size in pixels (0 when not known yet).
void fill(vtkRenderer* ren, const SpherePanel& panel, double font_scale, bool compact, double pw, double ph) {
  ren->SetBackground(1, 1, 1);
  // Plain alpha blending: depth peeling doubled the render time in software
  // GL (llvmpipe) and made no visible difference to this scene.
  ren->SetUseDepthPeeling(false);
  ren->AddActor(unit_sphere());
  ren->AddActor(lat_long_grid());
  int clusters = 0;
  for (const auto& run : panel.runs) {
    const int total = static_cast<int>(run.centres.size());
    if (total == 0) continue;
    const int upto = panel.upto_epoch > 0 ? std::min(panel.upto_epoch, total) : total;
    clusters = std::max(clusters, static_cast<int>(run.centres.front().size()));
    if (upto > 1) ren->AddActor(trajectories(run, upto));
    for (std::size_t k = 0; k < run.centres.front().size(); ++k) {
      double rgb[3];
      cluster_colour(static_cast<int>(k), rgb);
      if (!run.overlay) ren->AddActor(marker(run.centres.front()[k], 0.022, rgb, 0.55, false));
      ren->AddActor(marker(run.centres[static_cast<std::size_t>(upto - 1)][k], run.overlay ? 0.065 : 0.05, rgb, 1.0,
                           run.overlay));
    }
  }
  const double fs = 12.0 * font_scale;
  ren->AddActor2D(text(panel.title, fs * 1.25, 0.5, 0.985, VTK_TEXT_CENTERED, true));
  if (panel.stats) {
    char buf[200], opt[80] = "";
    if (const auto o = tammes_optimum_deg(clusters))
      std::snprintf(opt, sizeof opt, compact ? "\n(optimum min %.0f\xC2\xB0)" : "\noptimum min %.0f\xC2\xB0 for %d points", *o,
                    clusters);
    if (compact)
      std::snprintf(buf, sizeof buf, "NN angle mean %.0f\xC2\xB0 min %.0f\xC2\xB0%s", panel.stats->mean, panel.stats->min, opt);
    else
      std::snprintf(buf, sizeof buf, "nearest-neighbour angle: mean %.1f\xC2\xB0  min %.1f\xC2\xB0  max %.1f\xC2\xB0  SD %.1f\xC2\xB0%s",
                    panel.stats->mean, panel.stats->min, panel.stats->max, panel.stats->sd, opt);
    auto t = text(buf, fs, 0.02, 0.085, VTK_TEXT_LEFT, false);
    ren->AddActor2D(t);
  }
  if (panel.legend && clusters > 0) {
    vtkNew<vtkLegendBoxActor> legend;
    legend->SetNumberOfEntries(clusters + (panel.runs.size() > 1 ? 1 : 0));
    vtkNew<vtkSphereSource> symbol;
    symbol->Update();
    for (int k = 0; k < clusters; ++k) {
      double rgb[3];
      cluster_colour(k, rgb);
      const std::string name = "cluster " + std::to_string(k + 1);
      legend->SetEntry(k, symbol->GetOutput(), name.c_str(), rgb);
    }
    if (panel.runs.size() > 1) {
      double grey[3] = {0.4, 0.4, 0.4};
      const std::string name = "hollow: " + panel.runs[1].label;
      legend->SetEntry(clusters, static_cast<vtkPolyData*>(nullptr), name.c_str(), grey);
    }
    // VTK fits the text to the box: a box of a fixed share of a narrow panel
    // gave unreadable text, so the box has a floor in pixels.
    const int entries = legend->GetNumberOfEntries();
    double bw = 0.15, bh = 0.16;
    if (pw > 0 && ph > 0) {
      bw = std::min(0.45, std::max(bw, 105.0 * font_scale / pw));
      bh = std::min(0.6, std::max(bh, 15.0 * font_scale * entries / ph));
    }
    legend->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
    legend->GetPositionCoordinate()->SetValue(0.99 - bw, 0.92 - bh);
    legend->GetPosition2Coordinate()->SetCoordinateSystemToNormalizedViewport();
    legend->GetPosition2Coordinate()->SetValue(bw, bh);
    legend->UseBackgroundOff();
    legend->BorderOff();
    legend->GetEntryTextProperty()->SetColor(0.15, 0.17, 0.2);
    ren->AddActor2D(legend);
  }
}

}  // namespace

void reset_camera(vtkRenderer* ren) {
  vtkCamera* cam = ren->GetActiveCamera();
  cam->SetFocalPoint(0, 0, 0);
  cam->SetPosition(3.1, -3.1, 2.5);
  cam->SetViewUp(0, 0, 1);
  cam->SetViewAngle(30);
  ren->ResetCameraClippingRange();
}

void fit_cameras(vtkRenderWindow* window) {
  const int* size = window->GetSize();
  if (size == nullptr || size[0] <= 0 || size[1] <= 0) return;
  auto* list = window->GetRenderers();
  list->InitTraversal();
  while (vtkRenderer* ren = list->GetNextItem()) {
    const double* vp = ren->GetViewport();
    const double w = (vp[2] - vp[0]) * size[0], h = (vp[3] - vp[1]) * size[1];
    ren->GetActiveCamera()->SetUseHorizontalViewAngle(w < h);
  }
}

std::vector<vtkSmartPointer<vtkRenderer>> build_scene(vtkRenderWindow* window, const SphereFigure& figure,
                                                      const std::vector<vtkSmartPointer<vtkRenderer>>& previous) {
  window->GetRenderers()->RemoveAllItems();
  const int n = static_cast<int>(figure.panels.size());
  const int cols = figure.columns > 0 ? std::min(figure.columns, std::max(1, n)) : std::max(1, n);
  const int rows = (n + cols - 1) / cols;
  std::vector<vtkSmartPointer<vtkRenderer>> out;
  for (int i = 0; i < n; ++i) {
    auto ren = vtkSmartPointer<vtkRenderer>::New();
    const int r = i / cols, c = i % cols;
    ren->SetViewport(static_cast<double>(c) / cols, 1.0 - static_cast<double>(r + 1) / rows,
                     static_cast<double>(c + 1) / cols, 1.0 - static_cast<double>(r) / rows);
    const int* size = window->GetSize();
    const bool known = size != nullptr && size[0] > 0 && size[1] > 0;
    const bool narrow = known && size[0] / cols < 650;
    fill(ren, figure.panels[static_cast<std::size_t>(i)], figure.font_scale, cols >= 3 || narrow,
         known ? static_cast<double>(size[0]) / cols : 0.0, known ? static_cast<double>(size[1]) / rows : 0.0);
    if (previous.size() == static_cast<std::size_t>(n)) ren->SetActiveCamera(previous[static_cast<std::size_t>(i)]->GetActiveCamera());
    else reset_camera(ren);
    ren->ResetCameraClippingRange();
    window->AddRenderer(ren);
    out.push_back(ren);
  }
  if (n == 0) {
    auto ren = vtkSmartPointer<vtkRenderer>::New();
    ren->SetBackground(1, 1, 1);
    ren->AddActor(unit_sphere());
    ren->AddActor(lat_long_grid());
    reset_camera(ren);
    window->AddRenderer(ren);
    out.push_back(ren);
  }
  fit_cameras(window);
  return out;
}

}  // namespace detail
}  // namespace ssrl::viz
