#pragma once
// A method file has two parts: its description (plain data: name, paradigm,
// settings, defaults) and its implementation (networks and loss, LibTorch).
// The torch-free catalogue (wb_config) compiles each method file with
// SSRL_METHOD_DESCRIPTION=1 and keeps the first part; the engine (wb_core)
// compiles it again and keeps the second. So commands that only read the
// registry (`methods`, config checks, sweep plans, the GUI form) never load
// LibTorch, and a method is still one file.
#ifndef SSRL_METHOD_DESCRIPTION
#define SSRL_METHOD_DESCRIPTION 0
#endif

#if SSRL_METHOD_DESCRIPTION
#include "ssrl/methods.hpp"
#endif
