#pragma once
#include <string>

namespace ssrl::ui {

// Opens the workbench window on a database and runs the event loop.
int run_workbench(int argc, char** argv, const std::string& db_path);

// Measures what the window costs a training run: the event loop's latency
// (a 10 ms timer's lateness, p50/p99/max) while a run trains through the
// GUI's worker, and that run's training time against the same run trained
// headless. Prints a table; needs a display (xvfb-run works).
struct GuiBenchOptions {
  std::string method = "sdmi";
  int epochs = 100;
  int repeats = 2;
};
int run_gui_benchmark(int argc, char** argv, const std::string& db_path, const GuiBenchOptions& opt);

}  // namespace ssrl::ui
