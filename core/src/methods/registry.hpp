#pragma once
// The method registry. Adding a method: one file in this folder (see
// method_file.hpp and any method as an example), its line here (CMake reads
// this list for the sources), and its tests; the README walks through it.

// clang-format off
#define SSRL_METHODS(X) \
  X(sdmi)               \
  X(jmi)                \
  X(simsiam)            \
  X(byol)               \
  X(mocov3)             \
  X(mocov2)             \
  X(dino)               \
  X(simclr)             \
  X(barlow_twins)       \
  X(vicreg)             \
  X(swav)               \
  X(w_mse)              \
  X(taylor_dv)
// clang-format on
