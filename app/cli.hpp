#pragma once

#include <functional>
#include <string>

namespace ssrl::app {

// Opens the desktop window on a database; empty when built without the GUI.
using GuiLauncher = std::function<int(const std::string& db_path)>;

// Parses the command line and runs the command; returns the exit code.
// Throws ssrl::Error subclasses for main() to map to exit codes.
int run_cli(int argc, char** argv, const GuiLauncher& gui);

}  // namespace ssrl::app
