#pragma once
// The method registry. Adding a method: one file in this folder (see
// method_file.hpp and any method as an example), its line here, its name in
// core/CMakeLists.txt's WB_METHODS, and its tests.

// clang-format off
#define SSRL_METHODS(X) \
  X(sdmi)               \
  X(jmi)                \
  X(simsiam)            \
  X(byol)               \
  X(mocov3)             \
  X(simclr)             \
  X(barlow_twins)       \
  X(vicreg)             \
  X(taylor_dv)
// clang-format on
