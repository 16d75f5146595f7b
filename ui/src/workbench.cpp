#include "ssrl/ui/workbench.hpp"

#include <QApplication>
#include <QSurfaceFormat>

#include "main_window.hpp"

namespace ssrl::ui {

int run_workbench(int argc, char** argv, const std::string& db_path) {
  // VTK's OpenGL2 backend needs a 3.2 core context; ask before QApplication.
  QSurfaceFormat fmt;
  fmt.setVersion(3, 2);
  fmt.setProfile(QSurfaceFormat::CoreProfile);
  fmt.setDepthBufferSize(24);
  QSurfaceFormat::setDefaultFormat(fmt);
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("SSRL Workbench"));
  QApplication::setOrganizationName(QStringLiteral("ssrl-workbench"));
  MainWindow window(db_path);
  window.show();
  return QApplication::exec();
}

}  // namespace ssrl::ui
