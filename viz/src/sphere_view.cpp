#include "ssrl/viz/sphere_view.hpp"

#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLExtraFunctions>
#include <QWheelEvent>
#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkNew.h>
#include <vtkRendererCollection.h>

#include <algorithm>

#include "sphere_scene.hpp"

namespace ssrl::viz {

struct SphereView::Impl {
  SphereView* self = nullptr;
  vtkSmartPointer<vtkGenericOpenGLRenderWindow> window = vtkSmartPointer<vtkGenericOpenGLRenderWindow>::New();
  vtkSmartPointer<vtkGenericRenderWindowInteractor> interactor = vtkSmartPointer<vtkGenericRenderWindowInteractor>::New();
  vtkNew<vtkInteractorStyleTrackballCamera> style;
  std::vector<vtkSmartPointer<vtkRenderer>> renderers;
  SphereFigure figure;
  bool dirty = true;
  bool initialised = false;
  bool in_paint = false;
  bool rendered_outside_paint = false;
  QMetaObject::Connection context_gone;

  static void on_event(vtkObject*, unsigned long id, void* client, void* call) {
    auto* d = static_cast<Impl*>(client);
    QOpenGLContext* ctx = d->self->context();
    switch (id) {
      case vtkCommand::WindowMakeCurrentEvent:
        // The context itself, not QOpenGLWidget::makeCurrent(): that would
        // rebind Qt's framebuffer behind VTK's back.
        if (ctx != nullptr) ctx->makeCurrent(ctx->surface());
        break;
      case vtkCommand::WindowIsCurrentEvent:
        *static_cast<bool*>(call) = ctx != nullptr && QOpenGLContext::currentContext() == ctx;
        break;
      case vtkCommand::WindowFrameEvent:
        if (!d->in_paint) {
          d->rendered_outside_paint = true;  // an interaction rendered: just show it
          d->self->update();
        }
        break;
      default:
        break;
    }
  }
};

SphereView::SphereView(QWidget* parent) : QOpenGLWidget(parent), d_(std::make_unique<Impl>()) {
  d_->self = this;
  setMinimumSize(320, 280);
  setFocusPolicy(Qt::StrongFocus);
  vtkNew<vtkCallbackCommand> cb;
  cb->SetCallback(&Impl::on_event);
  cb->SetClientData(d_.get());
  d_->window->AddObserver(vtkCommand::WindowMakeCurrentEvent, cb);
  d_->window->AddObserver(vtkCommand::WindowIsCurrentEvent, cb);
  d_->window->AddObserver(vtkCommand::WindowFrameEvent, cb);
  d_->interactor->SetRenderWindow(d_->window);
  d_->interactor->SetInteractorStyle(d_->style);
  d_->interactor->EnableRenderOn();
}

SphereView::~SphereView() {
  // QOpenGLWidget's own destructor destroys the context later; our slot for
  // that must not run once this object is half gone.
  QObject::disconnect(d_->context_gone);
  if (d_->initialised && context() != nullptr) {
    makeCurrent();
    d_->window->Finalize();
    d_->window->SetReadyForRendering(false);
    doneCurrent();
  }
}

void SphereView::initializeGL() {
  auto& w = d_->window;
  w->SetOwnContext(false);
  w->SetReadyForRendering(true);
  w->SetForceMaximumHardwareLineWidth(1);
  w->SetFrameBlitModeToNoBlit();  // paintGL blits into Qt's framebuffer itself
  w->SetMultiSamples(0);          // depth peeling (translucent sphere) needs single-sample buffers
  w->OpenGLInitContext();
  w->SetMapped(1);
  d_->interactor->Initialize();
  d_->initialised = true;
  d_->dirty = true;
  QObject::disconnect(d_->context_gone);
  d_->context_gone = connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, [this] {
    makeCurrent();
    d_->window->ReleaseGraphicsResources(d_->window);
    d_->initialised = false;
    doneCurrent();
  });
}

void SphereView::resizeGL(int w, int h) {
  const double dpr = devicePixelRatioF();
  const int pw = static_cast<int>(w * dpr), ph = static_cast<int>(h * dpr);
  d_->interactor->UpdateSize(pw, ph);
  d_->window->SetSize(pw, ph);
}

void SphereView::paintGL() {
  if (!d_->initialised) return;
  d_->in_paint = true;
  if (d_->dirty) {
    d_->renderers = detail::build_scene(d_->window, d_->figure, d_->renderers);
    d_->dirty = false;
    d_->rendered_outside_paint = false;
  }
  detail::fit_cameras(d_->window);
  if (!d_->rendered_outside_paint) d_->window->Render();
  d_->rendered_outside_paint = false;
  // Copy VTK's frame into the widget's framebuffer.
  const double dpr = devicePixelRatioF();
  const int pw = static_cast<int>(width() * dpr), ph = static_cast<int>(height() * dpr);
  QOpenGLExtraFunctions* f = context()->extraFunctions();
  f->glBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
  const GLenum buffer = GL_COLOR_ATTACHMENT0;
  f->glDrawBuffers(1, &buffer);
  const bool scissor = f->glIsEnabled(GL_SCISSOR_TEST);
  if (scissor) f->glDisable(GL_SCISSOR_TEST);
  d_->window->BlitDisplayFramebuffer(0, 0, 0, pw, ph, 0, 0, pw, ph, GL_COLOR_BUFFER_BIT, GL_LINEAR);
  if (scissor) f->glEnable(GL_SCISSOR_TEST);
  d_->in_paint = false;
}

void SphereView::setFigure(const SphereFigure& figure) {
  const bool same_layout = figure.panels.size() == d_->figure.panels.size();
  d_->figure = figure;
  if (!same_layout) d_->renderers.clear();  // fresh cameras for a new layout
  d_->dirty = true;
  update();
}

const SphereFigure& SphereView::figure() const { return d_->figure; }

void SphereView::resetCamera() {
  for (auto& r : d_->renderers) detail::reset_camera(r);
  d_->rendered_outside_paint = false;
  update();
}

int SphereView::drawnEpochs(int panel, int run) const {
  if (panel < 0 || panel >= static_cast<int>(d_->figure.panels.size())) return 0;
  const auto& p = d_->figure.panels[static_cast<std::size_t>(panel)];
  if (run < 0 || run >= static_cast<int>(p.runs.size())) return 0;
  const int total = static_cast<int>(p.runs[static_cast<std::size_t>(run)].centres.size());
  return p.upto_epoch > 0 ? std::min(p.upto_epoch, total) : total;
}

namespace {

void set_position(vtkGenericRenderWindowInteractor* iren, const QPointF& pos, Qt::KeyboardModifiers mods,
                  double dpr, bool repeat = false) {
  iren->SetEventInformationFlipY(static_cast<int>(pos.x() * dpr), static_cast<int>(pos.y() * dpr),
                                 (mods & Qt::ControlModifier) ? 1 : 0, (mods & Qt::ShiftModifier) ? 1 : 0, 0,
                                 repeat ? 1 : 0);
}

}  // namespace

void SphereView::mousePressEvent(QMouseEvent* e) {
  if (!d_->initialised) return;
  set_position(d_->interactor, e->position(), e->modifiers(), devicePixelRatioF());
  switch (e->button()) {
    case Qt::LeftButton: d_->interactor->InvokeEvent(vtkCommand::LeftButtonPressEvent, e); break;
    case Qt::RightButton: d_->interactor->InvokeEvent(vtkCommand::RightButtonPressEvent, e); break;
    case Qt::MiddleButton: d_->interactor->InvokeEvent(vtkCommand::MiddleButtonPressEvent, e); break;
    default: break;
  }
}

void SphereView::mouseMoveEvent(QMouseEvent* e) {
  if (!d_->initialised) return;
  set_position(d_->interactor, e->position(), e->modifiers(), devicePixelRatioF());
  d_->interactor->InvokeEvent(vtkCommand::MouseMoveEvent, e);
}

void SphereView::mouseReleaseEvent(QMouseEvent* e) {
  if (!d_->initialised) return;
  set_position(d_->interactor, e->position(), e->modifiers(), devicePixelRatioF());
  switch (e->button()) {
    case Qt::LeftButton: d_->interactor->InvokeEvent(vtkCommand::LeftButtonReleaseEvent, e); break;
    case Qt::RightButton: d_->interactor->InvokeEvent(vtkCommand::RightButtonReleaseEvent, e); break;
    case Qt::MiddleButton: d_->interactor->InvokeEvent(vtkCommand::MiddleButtonReleaseEvent, e); break;
    default: break;
  }
}

void SphereView::wheelEvent(QWheelEvent* e) {
  if (!d_->initialised) return;
  set_position(d_->interactor, e->position(), e->modifiers(), devicePixelRatioF());
  if (e->angleDelta().y() > 0) d_->interactor->InvokeEvent(vtkCommand::MouseWheelForwardEvent, e);
  else if (e->angleDelta().y() < 0) d_->interactor->InvokeEvent(vtkCommand::MouseWheelBackwardEvent, e);
}

}  // namespace ssrl::viz
