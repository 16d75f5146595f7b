// Intra-op threads and devices. (The OpenMP wait policy: prepare_process in
// core/src/engine/client.cpp.)
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <cstdlib>

#include "ssrl/errors.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl {

bool cuda_available() { return torch::cuda::is_available(); }

std::string resolve_device(const std::string& requested) {
  if (requested == "cpu") return "cpu";
  if (requested == "auto") return cuda_available() ? "cuda:0" : "cpu";
  if (!cuda_available())
    throw ConfigError("device", "CUDA was requested ('" + requested +
                                    "') but this build or machine has no CUDA device (accepted here: auto, cpu)");
  if (requested == "cuda") return "cuda:0";
  const int index = std::atoi(requested.c_str() + 5);
  if (index >= static_cast<int>(torch::cuda::device_count()))
    throw ConfigError("device", "no CUDA device " + std::to_string(index) + " (this machine has " +
                                    std::to_string(torch::cuda::device_count()) + ")");
  return requested;
}

std::string rank_device(const std::string& requested, const std::string& resolved, int rank) {
  if (resolved.rfind("cuda", 0) != 0 || (requested != "cuda" && requested != "auto")) return resolved;
  const int count = static_cast<int>(torch::cuda::device_count());
  int index = rank;
  if (const char* local = std::getenv("LOCAL_RANK"); local != nullptr && *local != '\0') index = std::atoi(local);
  return "cuda:" + std::to_string(count > 0 ? index % count : 0);
}

void set_torch_threads(int threads) {
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

std::string torch_version() { return TORCH_VERSION; }

}  // namespace ssrl
