// Shipped resources (presets, sweeps, example configs): found in the source
// tree's resources/ in a build tree, or under <prefix>/share/ssrl-workbench.
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "config/fields.hpp"
#include "ssrl/errors.hpp"

namespace ssrl {

using config::join;
using json = nlohmann::json;

std::vector<std::string> resource_dirs() {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("SSRL_RESOURCE_DIR"); env != nullptr && *env != '\0') dirs.push_back(env);
  // An installed binary reads its own prefix's copy, also on a machine
  // that still has the source tree it was built from.
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path().parent_path() / "share" / "ssrl-workbench" / "resources").string());
#ifdef SSRL_SOURCE_RESOURCE_DIR
  dirs.push_back(SSRL_SOURCE_RESOURCE_DIR);
#endif
  std::vector<std::string> existing;
  for (const auto& d : dirs)
    if (fs::is_directory(d, ec) && std::find(existing.begin(), existing.end(), d) == existing.end()) existing.push_back(d);
  return existing;
}

std::vector<std::string> list_resources(const std::string& folder) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& dir : resource_dirs()) {
    const fs::path root = fs::path(dir) / folder;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root, ec))
      if (e.is_regular_file() && e.path().extension() == ".json")
        out.push_back(fs::relative(e.path(), root).replace_extension().generic_string());
    break;  // the first folder that has them wins
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> list_presets() { return list_resources("presets"); }

json load_preset(const std::string& name) {
  namespace fs = std::filesystem;
  const auto names = list_presets();
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw ConfigError("preset", "unknown preset '" + name + "' (accepted: " + join(names) + ")");
  for (const auto& dir : resource_dirs()) {
    const fs::path file = fs::path(dir) / "presets" / (name + ".json");
    if (fs::exists(file)) return read_config_file(file.string());
  }
  throw ConfigError("preset", "preset '" + name + "' disappeared while reading it");
}

}  // namespace ssrl
