#include "training/precision.hpp"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "ssrl/config.hpp"

#ifdef SSRL_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define SSRL_AUTOCAST_BY_DEVICE 1
#endif

namespace ssrl {
namespace {

thread_local Precision policy;

bool enabled(c10::DeviceType d) {
#ifdef SSRL_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(d);
#else
  return d == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void set_enabled(c10::DeviceType d, bool on) {
#ifdef SSRL_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_enabled(d, on);
#else
  if (d == c10::DeviceType::CUDA) at::autocast::set_enabled(on);
  else at::autocast::set_cpu_enabled(on);
#endif
}

void set_dtype(c10::DeviceType d, at::ScalarType t) {
#ifdef SSRL_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_dtype(d, t);
#else
  if (d == c10::DeviceType::CUDA) at::autocast::set_autocast_gpu_dtype(t);
  else at::autocast::set_autocast_cpu_dtype(t);
#endif
}

// bfloat16 tensor cores came with compute capability 8.0 (Ampere).
bool cuda_bf16_supported(c10::DeviceIndex index) {
#ifdef SSRL_WITH_CUDA
  return at::cuda::getDeviceProperties(index < 0 ? 0 : index)->major >= 8;
#else
  (void)index;
  return false;
#endif
}

}  // namespace

Precision precision_for(const RunConfig& cfg, torch::Device device) {
  Precision p;
  p.device = device.is_cuda() ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
  if (device.is_cuda()) {
    p.autocast = cfg.amp;
    p.dtype = cfg.amp_dtype == "float16" || !cuda_bf16_supported(device.index()) ? at::kHalf : at::kBFloat16;
  } else {
    p.autocast = cfg.amp && cfg.amp_cpu && device.is_cpu();
    p.dtype = at::kBFloat16;
  }
  p.loss_scaling = p.autocast && p.dtype == at::kHalf;
  return p;
}

void apply_backend_settings(const RunConfig& cfg) {
  auto& context = at::globalContext();
  context.setBenchmarkCuDNN(cfg.cudnn_benchmark);
  context.setAllowTF32CuBLAS(cfg.tf32);
  context.setAllowTF32CuDNN(cfg.tf32);
}

PrecisionScope::PrecisionScope(const Precision& p) : previous_(policy) { policy = p; }
PrecisionScope::~PrecisionScope() { policy = previous_; }
const Precision& current_precision() { return policy; }

StepAutocast::StepAutocast() {
  if (!policy.autocast) return;
  was_enabled_ = enabled(policy.device);
  set_dtype(policy.device, policy.dtype);
  set_enabled(policy.device, true);
  on_ = true;
}

StepAutocast::~StepAutocast() {
  if (!on_) return;
  set_enabled(policy.device, was_enabled_);
  if (!was_enabled_) at::autocast::clear_cache();
}

AutocastOff::AutocastOff() : cpu_(enabled(c10::DeviceType::CPU)), gpu_(enabled(c10::DeviceType::CUDA)) {
  if (cpu_) set_enabled(c10::DeviceType::CPU, false);
  if (gpu_) set_enabled(c10::DeviceType::CUDA, false);
}

AutocastOff::~AutocastOff() {
  if (cpu_) set_enabled(c10::DeviceType::CPU, true);
  if (gpu_) set_enabled(c10::DeviceType::CUDA, true);
}

}  // namespace ssrl
