#pragma once

#include <functional>
#include <string>

#include "commands.hpp"

namespace ssrl::app {

// What the GUI build adds to the CLI; empty functions without the GUI.
struct GuiHooks {
  // Opens the desktop window on a database.
  std::function<int(const std::string& db_path)> open;
  // `bench gui`: event-loop latency and training overhead of the window.
  std::function<int(const std::string& db_path, const std::string& method, int epochs, int repeats)> bench;
  // `export figure`, and the figures of `reproduce gaussian --out`.
  std::function<int(const Global& g, const FigureRequest& req)> figure;
  std::function<int(const Global& g, const std::string& tag, const std::string& dir)> reproduce_figures;
  // The MI calibration figure (`reproduce mi-calibration`).
  std::function<void(const std::vector<CalibrationRow>& rows, const std::string& path)> calibration_figure;
};

// Parses the command line and runs the command; returns the exit code.
// Throws ssrl::Error subclasses for main() to map to exit codes.
int run_cli(int argc, char** argv, const GuiHooks& gui);

}  // namespace ssrl::app
