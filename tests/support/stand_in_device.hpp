#pragma once
// A stand-in accelerator for tests on machines without one: tensors on the
// `xpu` device (LibTorch 1.x) or the `ipu` device (2.x) whose operations run
// on the CPU through a boxed fallback. It checks what a real accelerator's
// kernels check (all tensor operands on one device, a generator on the
// tensors' device) so that a tensor created on the wrong device fails a test
// here, and it counts the host-device transfers and synchronisations an
// accelerator would make. Not `xpu` in 2.x: there it is an accelerator type,
// for which the autograd engine asks the build's accelerator (CUDA in the
// cuda preset) for streams. Not `ipu` in 1.x: its unpickler maps tensors
// only onto CUDA, XPU, HPU and meta.

#include <torch/torch.h>
#include <torch/version.h>

#include <cstdint>

namespace ssrl::test {

#if TORCH_VERSION_MAJOR >= 2
#define SSRL_STAND_IN IPU
#define SSRL_STAND_IN_AUTOGRAD AutogradIPU
#else
#define SSRL_STAND_IN XPU
#define SSRL_STAND_IN_AUTOGRAD AutogradXPU
#endif
inline constexpr c10::DeviceType kStandInType = c10::DeviceType::SSRL_STAND_IN;
inline const torch::Device kStandIn(kStandInType, 0);
// LibTorch 2's unpickler maps tensors only onto accelerator types (and meta),
// so checkpoints cannot be loaded straight onto the 2.x stand-in.
inline constexpr bool kStandInLoadsCheckpoints = TORCH_VERSION_MAJOR < 2;

struct TransferCounts {
  std::int64_t to_host = 0;         // device-to-host copies (a sync each)
  std::int64_t scalar_reads = 0;    // .item() and friends (a sync each)
  std::int64_t to_device = 0;       // host-to-device copies
  std::int64_t to_device_blocking = 0;  // of those, not non_blocking
  std::int64_t syncs() const { return to_host + scalar_reads; }
};

TransferCounts& transfer_counts();

}  // namespace ssrl::test
