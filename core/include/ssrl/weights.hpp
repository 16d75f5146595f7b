#pragma once
// Trained encoders for PyTorch users: an encoder of a run as a state_dict
// that torch.load reads, with the parameter names of the plain PyTorch
// definitions in resources/python/ssrl_encoders.py. No torch here.

#include <string>

#include "ssrl/config.hpp"

namespace ssrl {

struct WeightsExport {
  std::string python;  // the constructor call in ssrl_encoders.py the file loads into
  int tensors = 0;     // parameters and buffers written
  long long values = 0;
};

// Writes the state_dict of `encoder` ("f", "g") of a run, read from its
// checkpoint: part "all" (the whole encoder), "backbone" or "projector"
// (image encoders only). ConfigError for an encoder or part the run lacks,
// DataError for an unreadable checkpoint or an unwritable file.
WeightsExport export_weights(const RunConfig& cfg, const std::string& checkpoint, const std::string& encoder,
                             const std::string& part, const std::string& out);

}  // namespace ssrl
