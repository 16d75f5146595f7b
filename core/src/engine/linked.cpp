// wb_core linked into a binary directly (the engine library, the tests): the
// engine is there from the start.
#include "ssrl/engine.hpp"

namespace ssrl {

void load_engine() {}
bool engine_loaded() { return true; }

}  // namespace ssrl
