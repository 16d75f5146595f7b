// Process and device setup: the OpenMP wait policy, intra-op threads, devices.
#include <ATen/Parallel.h>
#include <torch/version.h>
#include <unistd.h>

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

void prepare_process(int argc, char** argv) {
  // libgomp reads OMP_WAIT_POLICY when it is loaded, before main(). Spinning
  // idle OpenMP workers made small steps ~40x slower on 2 vCPUs and starve the
  // GUI thread, so the process re-executes itself once with a passive policy
  // unless the user chose one.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("SSRL_NO_REEXEC") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    setenv("SSRL_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    // If exec fails we carry on with whatever policy OpenMP picked.
  }
  (void)argc;
}

}  // namespace ssrl
