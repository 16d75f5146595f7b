// A config file (`run --config`) and `--set key=value` text: parsed with the
// nesting bound, then assembled and validated as a run's config.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/json_read.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  nlohmann::json j = ssrl::parse_json_bounded(text, &error);
  try {
    if (error.empty() && j.is_object()) {
      ssrl::ConfigSources src;
      src.method = ssrl::method_in_json(j);
      if (src.method.empty()) src.method = "jmi";
      src.object = &j;
      src.object_origin = "fuzz";
      (void)ssrl::assemble_config(src, false);
    }
    // The same bytes as key=value typed on the command line.
    const auto eq = text.find('=');
    if (eq != std::string::npos) {
      ssrl::ConfigSources src;
      src.method = "sdmi";
      src.settings.push_back({text.substr(0, eq), text.substr(eq + 1)});
      (void)ssrl::assemble_config(src, false);
    }
  } catch (const ssrl::Error&) {  // a clear refusal is the expected outcome
  }
  return 0;
}
