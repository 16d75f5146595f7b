#pragma once
// The unit-sphere view inside a Qt 6 window: a QOpenGLWidget that drives a
// vtkGenericOpenGLRenderWindow (Debian's VTK Qt module is Qt 5 only). Left
// drag rotates, right drag or the wheel zooms, middle drag pans.

#include <QOpenGLWidget>

#include <memory>

#include "ssrl/viz/sphere_figure.hpp"

namespace ssrl::viz {

class SphereView : public QOpenGLWidget {
  Q_OBJECT
 public:
  explicit SphereView(QWidget* parent = nullptr);
  ~SphereView() override;

  // Redraws with new content; the camera of each panel survives as long as
  // the number of panels stays the same.
  void setFigure(const SphereFigure& figure);
  const SphereFigure& figure() const;
  void resetCamera();
  // How many epochs of cluster k's trajectory panel p shows (for tests).
  int drawnEpochs(int panel, int run = 0) const;

 protected:
  void initializeGL() override;
  void resizeGL(int w, int h) override;
  void paintGL() override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> d_;
};

}  // namespace ssrl::viz
