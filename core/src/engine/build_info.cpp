// What the build knows of LibTorch without loading it (CMake's Torch_VERSION).
#include "ssrl/engine.hpp"

namespace ssrl {

std::string torch_build_version() { return SSRL_TORCH_BUILD_VERSION; }
bool torch_build_has_cuda() { return SSRL_TORCH_BUILD_CUDA != 0; }

}  // namespace ssrl
