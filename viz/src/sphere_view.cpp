#include "ssrl/viz/sphere_view.hpp"

#include <QElapsedTimer>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLExtraFunctions>
#include <QOpenGLWindow>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkNew.h>
#include <vtkImageData.h>
#include <vtkRendererCollection.h>
#include <vtkWindowToImageFilter.h>

#include <algorithm>
#include <cstring>

#include "sphere_scene.hpp"

namespace ssrl::viz {

// The OpenGL surface VTK renders into.
class SphereView::Surface : public QOpenGLWindow {
 public:
  Surface() : QOpenGLWindow(QOpenGLWindow::NoPartialUpdate) {
    vtkNew<vtkCallbackCommand> cb;
    cb->SetCallback(&Surface::on_event);
    cb->SetClientData(this);
    window_->AddObserver(vtkCommand::WindowMakeCurrentEvent, cb);
    window_->AddObserver(vtkCommand::WindowIsCurrentEvent, cb);
    window_->AddObserver(vtkCommand::WindowFrameEvent, cb);
    interactor_->SetRenderWindow(window_);
    interactor_->SetInteractorStyle(style_);
    interactor_->EnableRenderOn();
  }

  ~Surface() override {
    QObject::disconnect(context_gone_);
    if (initialised_ && context() != nullptr) {
      makeCurrent();
      window_->Finalize();
      window_->SetReadyForRendering(false);
      doneCurrent();
    }
  }

  SphereFigure figure;
  bool dirty = true;
  double last_render_ms = 0;

  // Renders now and reads VTK's frame back (a QOpenGLWindow's own grab
  // returns whatever the back buffer last held).
  QImage grab() {
    if (!initialised_ || !isExposed()) return {};
    makeCurrent();
    if (dirty) {
      renderers_ = detail::build_scene(window_, figure, renderers_);
      dirty = false;
    }
    detail::fit_cameras(window_);
    window_->Render();
    vtkNew<vtkWindowToImageFilter> filter;
    filter->SetInput(window_);
    filter->SetInputBufferTypeToRGB();
    filter->ReadFrontBufferOff();
    filter->ShouldRerenderOff();
    filter->Update();
    int dims[3];
    filter->GetOutput()->GetDimensions(dims);
    const auto* src = static_cast<const unsigned char*>(filter->GetOutput()->GetScalarPointer());
    QImage img(dims[0], dims[1], QImage::Format_RGB888);
    for (int y = 0; y < dims[1]; ++y)
      std::memcpy(img.scanLine(y), src + static_cast<std::size_t>(dims[1] - 1 - y) * dims[0] * 3,
                  static_cast<std::size_t>(dims[0]) * 3);
    doneCurrent();
    update();
    return img;
  }

  void reset_cameras() {
    for (auto& r : renderers_) detail::reset_camera(r);
    rendered_outside_paint_ = false;
    update();
  }

 protected:
  void initializeGL() override {
    auto& w = window_;
    w->SetOwnContext(false);
    w->SetReadyForRendering(true);
    w->SetForceMaximumHardwareLineWidth(1);
    w->SetFrameBlitModeToNoBlit();  // paintGL blits into Qt's framebuffer itself
    w->SetMultiSamples(0);
    w->OpenGLInitContext();
    w->SetMapped(1);
    interactor_->Initialize();
    initialised_ = true;
    dirty = true;
    QObject::disconnect(context_gone_);
    context_gone_ = QObject::connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, [this] {
      makeCurrent();
      window_->ReleaseGraphicsResources(window_);
      initialised_ = false;
      doneCurrent();
    });
  }

  void resizeGL(int w, int h) override {
    const double dpr = devicePixelRatio();
    const int pw = static_cast<int>(w * dpr), ph = static_cast<int>(h * dpr);
    interactor_->UpdateSize(pw, ph);
    window_->SetSize(pw, ph);
  }

  void paintGL() override {
    if (!initialised_) return;
    in_paint_ = true;
    if (dirty) {
      renderers_ = detail::build_scene(window_, figure, renderers_);
      dirty = false;
      rendered_outside_paint_ = false;
    }
    detail::fit_cameras(window_);
    QElapsedTimer clock;
    clock.start();
    if (!rendered_outside_paint_) window_->Render();
    last_render_ms = clock.nsecsElapsed() / 1e6;
    rendered_outside_paint_ = false;
    const double dpr = devicePixelRatio();
    const int pw = static_cast<int>(width() * dpr), ph = static_cast<int>(height() * dpr);
    QOpenGLExtraFunctions* f = context()->extraFunctions();
    f->glBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
    const GLenum buffer = defaultFramebufferObject() == 0 ? GL_BACK : GL_COLOR_ATTACHMENT0;
    f->glDrawBuffers(1, &buffer);
    const bool scissor = f->glIsEnabled(GL_SCISSOR_TEST);
    if (scissor) f->glDisable(GL_SCISSOR_TEST);
    window_->BlitDisplayFramebuffer(0, 0, 0, pw, ph, 0, 0, pw, ph, GL_COLOR_BUFFER_BIT, GL_LINEAR);
    if (scissor) f->glEnable(GL_SCISSOR_TEST);
    in_paint_ = false;
  }

  void mousePressEvent(QMouseEvent* e) override { button(e, true); }
  void mouseReleaseEvent(QMouseEvent* e) override { button(e, false); }
  void mouseMoveEvent(QMouseEvent* e) override {
    if (!initialised_) return;
    position(e->position(), e->modifiers());
    interactor_->InvokeEvent(vtkCommand::MouseMoveEvent, e);
  }
  void wheelEvent(QWheelEvent* e) override {
    if (!initialised_) return;
    position(e->position(), e->modifiers());
    if (e->angleDelta().y() > 0) interactor_->InvokeEvent(vtkCommand::MouseWheelForwardEvent, e);
    else if (e->angleDelta().y() < 0) interactor_->InvokeEvent(vtkCommand::MouseWheelBackwardEvent, e);
  }

 private:
  static void on_event(vtkObject*, unsigned long id, void* client, void* call) {
    auto* s = static_cast<Surface*>(client);
    QOpenGLContext* ctx = s->context();
    switch (id) {
      case vtkCommand::WindowMakeCurrentEvent:
        // The context on our surface, not QOpenGLWindow::makeCurrent(),
        // which would also rebind Qt's framebuffer behind VTK's back.
        if (ctx != nullptr) ctx->makeCurrent(s);
        break;
      case vtkCommand::WindowIsCurrentEvent:
        *static_cast<bool*>(call) = ctx != nullptr && QOpenGLContext::currentContext() == ctx;
        break;
      case vtkCommand::WindowFrameEvent:
        if (!s->in_paint_) {
          s->rendered_outside_paint_ = true;  // an interaction rendered: just show it
          s->update();
        }
        break;
      default:
        break;
    }
  }

  void position(const QPointF& pos, Qt::KeyboardModifiers mods) {
    const double dpr = devicePixelRatio();
    interactor_->SetEventInformationFlipY(static_cast<int>(pos.x() * dpr), static_cast<int>(pos.y() * dpr),
                                          (mods & Qt::ControlModifier) ? 1 : 0, (mods & Qt::ShiftModifier) ? 1 : 0);
  }

  void button(QMouseEvent* e, bool press) {
    if (!initialised_) return;
    position(e->position(), e->modifiers());
    unsigned long event = 0;
    switch (e->button()) {
      case Qt::LeftButton: event = press ? vtkCommand::LeftButtonPressEvent : vtkCommand::LeftButtonReleaseEvent; break;
      case Qt::RightButton: event = press ? vtkCommand::RightButtonPressEvent : vtkCommand::RightButtonReleaseEvent; break;
      case Qt::MiddleButton: event = press ? vtkCommand::MiddleButtonPressEvent : vtkCommand::MiddleButtonReleaseEvent; break;
      default: return;
    }
    interactor_->InvokeEvent(event, e);
  }

  vtkSmartPointer<vtkGenericOpenGLRenderWindow> window_ = vtkSmartPointer<vtkGenericOpenGLRenderWindow>::New();
  vtkSmartPointer<vtkGenericRenderWindowInteractor> interactor_ = vtkSmartPointer<vtkGenericRenderWindowInteractor>::New();
  vtkNew<vtkInteractorStyleTrackballCamera> style_;
  std::vector<vtkSmartPointer<vtkRenderer>> renderers_;
  bool initialised_ = false;
  bool in_paint_ = false;
  bool rendered_outside_paint_ = false;
  QMetaObject::Connection context_gone_;
};

SphereView::SphereView(QWidget* parent) : QWidget(parent), surface_(new Surface) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  QWidget* container = QWidget::createWindowContainer(surface_, this);
  container->setMinimumSize(320, 280);
  container->setFocusPolicy(Qt::StrongFocus);
  layout->addWidget(container);
}

SphereView::~SphereView() = default;  // the container deletes the surface

void SphereView::setFigure(const SphereFigure& figure) {
  const bool same_layout = figure.panels.size() == surface_->figure.panels.size();
  surface_->figure = figure;
  if (!same_layout) surface_->reset_cameras();
  surface_->dirty = true;
  surface_->update();
}

const SphereFigure& SphereView::figure() const { return surface_->figure; }

void SphereView::resetCamera() { surface_->reset_cameras(); }

double SphereView::lastRenderMs() const { return surface_->last_render_ms; }

QImage SphereView::grabFramebuffer() { return surface_->grab(); }

QWindow* SphereView::surface() const { return surface_; }

int SphereView::drawnEpochs(int panel, int run) const {
  const auto& fig = surface_->figure;
  if (panel < 0 || panel >= static_cast<int>(fig.panels.size())) return 0;
  const auto& p = fig.panels[static_cast<std::size_t>(panel)];
  if (run < 0 || run >= static_cast<int>(p.runs.size())) return 0;
  const int total = static_cast<int>(p.runs[static_cast<std::size_t>(run)].centres.size());
  return p.upto_epoch > 0 ? std::min(p.upto_epoch, total) : total;
}

}  // namespace ssrl::viz
