#pragma once
#include <string>

namespace ssrl::ui {

// Opens the workbench window on a database and runs the event loop.
int run_workbench(int argc, char** argv, const std::string& db_path);

}  // namespace ssrl::ui
