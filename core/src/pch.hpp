#pragma once
// Precompiled header of the LibTorch-facing targets (core and its tests).
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>
