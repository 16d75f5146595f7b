#pragma once
// Checkpoints: the state after an epoch (networks, optimisers, counters, the
// run's random generator), serialised in memory after every epoch so that a
// stop in the middle of the next one can still write it out.
#include <torch/torch.h>

#include <string>

#include "methods/method.hpp"
#include "ssrl/config.hpp"

namespace ssrl {

struct Snapshot {
  int epoch = 0;
  std::string bytes;
};

Snapshot take_snapshot(Method& method, at::Generator& gen, int epoch, const RunConfig& cfg);
// Writes <dir>/epoch-<N>.pt atomically; returns its path.
std::string write_snapshot(const Snapshot& s, const std::string& dir);
// Restores the method and the generator; returns the epoch the file holds
// the state after. DataError if the file cannot be loaded.
int load_snapshot(const std::string& path, Method& method, at::Generator& gen, torch::Device device);

}  // namespace ssrl
