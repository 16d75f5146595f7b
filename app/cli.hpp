#pragma once

#include <functional>
#include <string>

namespace ssrl::app {

// What the GUI build adds to the CLI; empty functions without the GUI.
struct GuiHooks {
  // Opens the desktop window on a database.
  std::function<int(const std::string& db_path)> open;
  // `bench gui`: event-loop latency and training overhead of the window.
  std::function<int(const std::string& db_path, const std::string& method, int epochs, int repeats)> bench;
};

// Parses the command line and runs the command; returns the exit code.
// Throws ssrl::Error subclasses for main() to map to exit codes.
int run_cli(int argc, char** argv, const GuiHooks& gui);

}  // namespace ssrl::app
