#pragma once
// The unit-sphere view inside a Qt 6 window. VTK draws through a
// vtkGenericOpenGLRenderWindow into a QOpenGLWindow embedded with
// QWidget::createWindowContainer (Debian's VTK Qt module is Qt 5 only): a
// native child surface keeps the rest of the main window on the raster
// path, so charts and tables repaint without OpenGL composition. Left drag
// rotates, right drag or the wheel zooms, middle drag pans.

#include <QImage>
#include <QWidget>

#include <memory>

#include "ssrl/viz/sphere_figure.hpp"

class QWindow;

namespace ssrl::viz {

class SphereView : public QWidget {
  Q_OBJECT
 public:
  explicit SphereView(QWidget* parent = nullptr);
  ~SphereView() override;

  // Redraws with new content; the camera of each panel survives as long as
  // the number of panels stays the same.
  void setFigure(const SphereFigure& figure);
  const SphereFigure& figure() const;
  void resetCamera();
  // How many epochs of panel p's run draws (for tests).
  int drawnEpochs(int panel, int run = 0) const;
  // Wall time of the last VTK render (ms); the owner paces live redraws by it.
  double lastRenderMs() const;
  // The rendered picture, and the surface that takes mouse input (tests).
  QImage grabFramebuffer();
  QWindow* surface() const;

 private:
  class Surface;
  Surface* surface_ = nullptr;  // owned by its container widget
};

}  // namespace ssrl::viz
