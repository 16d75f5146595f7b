// Offscreen rendering of sphere figures (headless export and render tests).
#include <X11/Xlib.h>
#include <vtkCoordinate.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkRenderWindow.h>
#include <vtkUnsignedCharArray.h>
#include <vtkPointData.h>
#include <vtkWindowToImageFilter.h>

#include <cstdlib>
#include <cstring>

#include "sphere_scene.hpp"
#include "ssrl/errors.hpp"

namespace ssrl::viz {

std::string offscreen_problem() {
  const char* display = std::getenv("DISPLAY");
  if (display == nullptr || *display == '\0')
    return "no X display (DISPLAY is not set); this VTK renders through X: run the command under `xvfb-run -a`";
  // One connection stays open for the life of the process: an X server
  // (Xvfb in particular) resets when its last client leaves, and a render
  // that connects during the reset fails.
  static Display* keeper = nullptr;
  static std::string kept_for;
  if (keeper == nullptr || kept_for != display) {
    Display* dpy = XOpenDisplay(nullptr);
    if (dpy == nullptr) return std::string("cannot open the X display '") + display + "'; run the command under `xvfb-run -a`";
    keeper = dpy;
    kept_for = display;
  }
  vtkNew<vtkRenderWindow> probe;
  probe->SetOffScreenRendering(1);
  probe->SetSize(8, 8);
  if (!probe->SupportsOpenGL())
    return std::string("no OpenGL 3.2 context on display '") + display + "' (check the Mesa/GL drivers)";
  return {};
}

RenderedImage render_offscreen(const SphereFigure& figure, int width, int height) {
  if (width < 16 || height < 16 || width > 16384 || height > 16384)
    throw Error("figure size " + std::to_string(width) + " x " + std::to_string(height) + " is outside 16..16384 pixels");
  if (const auto why = offscreen_problem(); !why.empty()) throw Error("cannot render the sphere view: " + why);
  vtkNew<vtkRenderWindow> window;
  window->SetOffScreenRendering(1);
  window->SetMultiSamples(0);  // depth peeling needs a single-sample buffer
  window->SetAlphaBitPlanes(1);
  window->SetSize(width, height);
  const auto renderers = detail::build_scene(window, figure, {});
  window->Render();

  vtkNew<vtkWindowToImageFilter> grab;
  grab->SetInput(window);
  grab->SetInputBufferTypeToRGB();
  grab->ReadFrontBufferOff();
  grab->Update();
  vtkImageData* img = grab->GetOutput();
  int dims[3];
  img->GetDimensions(dims);
  RenderedImage out;
  out.width = dims[0];
  out.height = dims[1];
  out.rgb.resize(static_cast<std::size_t>(out.width) * out.height * 3);
  auto* src = static_cast<unsigned char*>(img->GetScalarPointer());
  // VTK's rows run bottom to top.
  for (int y = 0; y < out.height; ++y)
    std::memcpy(&out.rgb[static_cast<std::size_t>(y) * out.width * 3],
                src + static_cast<std::size_t>(out.height - 1 - y) * out.width * 3, static_cast<std::size_t>(out.width) * 3);

  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    std::vector<std::pair<double, double>> px;
    const auto& panel = figure.panels[p];
    if (!panel.runs.empty() && !panel.runs.front().centres.empty()) {
      const auto& run = panel.runs.front();
      const int total = static_cast<int>(run.centres.size());
      const int upto = panel.upto_epoch > 0 ? std::min(panel.upto_epoch, total) : total;
      for (const auto& c : run.centres[static_cast<std::size_t>(upto - 1)]) {
        vtkNew<vtkCoordinate> coord;
        coord->SetCoordinateSystemToWorld();
        coord->SetValue(c.x * 1.012, c.y * 1.012, c.z * 1.012);
        const double* d = coord->GetComputedDoubleDisplayValue(renderers[p]);
        px.emplace_back(d[0], out.height - 1 - d[1]);
      }
    }
    out.final_centres_px.push_back(std::move(px));
  }
  return out;
}

}  // namespace ssrl::viz
