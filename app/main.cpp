// ssrl-workbench: the CLI, and the desktop window when built with the GUI.
#include <cstdlib>
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/engine.hpp"

#ifdef WB_WITH_GUI
#include "ssrl/ui/workbench.hpp"
#endif

int main(int argc, char** argv) {
  ssrl::prepare_process(argc, argv);
  ssrl::app::GuiHooks gui;
#ifdef WB_WITH_GUI
  gui.open = [argc, argv](const std::string& db_path) { return ssrl::ui::run_workbench(argc, argv, db_path); };
  gui.bench = [argc, argv](const std::string& db_path, const std::string& method, int epochs, int repeats) {
    ssrl::ui::GuiBenchOptions opt;
    opt.method = method;
    opt.epochs = epochs;
    opt.repeats = repeats;
    return ssrl::ui::run_gui_benchmark(argc, argv, db_path, opt);
  };
  gui.figure = ssrl::app::cmd_export_figure;
  gui.reproduce_figures = ssrl::app::write_reproduce_figures;
  gui.calibration_figure = ssrl::app::write_calibration_figure;
#endif
  try {
    return ssrl::app::run_cli(argc, argv, gui);
  } catch (const ssrl::ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return ssrl::app::kUsage;
  } catch (const ssrl::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return ssrl::app::kFailure;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return ssrl::app::kFailure;
  }
}
