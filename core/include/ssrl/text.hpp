#pragma once
// Checks on free text from outside (command-line arguments may hold any bytes).
#include <string>

namespace ssrl {

// Whether text is well-formed UTF-8, as the JSON stored with runs needs.
bool valid_utf8(const std::string& text);

}  // namespace ssrl
