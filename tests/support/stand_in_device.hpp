#pragma once
// A stand-in accelerator for tests on machines without one: tensors on the
// `xpu` device whose operations run on the CPU through a boxed fallback. It
// checks what a real accelerator's kernels check (all tensor operands on one
// device, a generator on the tensors' device) so that a tensor created on
// the wrong device fails a test here, and it counts the host-device
// transfers and synchronisations an accelerator would make.

#include <torch/torch.h>

#include <cstdint>

namespace ssrl::test {

inline const torch::Device kStandIn(torch::kXPU, 0);

struct TransferCounts {
  std::int64_t to_host = 0;         // device-to-host copies (a sync each)
  std::int64_t scalar_reads = 0;    // .item() and friends (a sync each)
  std::int64_t to_device = 0;       // host-to-device copies
  std::int64_t to_device_blocking = 0;  // of those, not non_blocking
  std::int64_t syncs() const { return to_host + scalar_reads; }
};

TransferCounts& transfer_counts();

}  // namespace ssrl::test
