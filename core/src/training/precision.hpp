#pragma once
// Mixed precision, one step at a time. The trainer installs a policy for the
// epoch; every step's forward and loss run inside a StepAutocast, whose end
// clears autocast's cache of low-precision weight copies, so the next step's
// forward casts the weights the optimiser just updated. Backward and the
// optimiser step run outside autocast, as PyTorch's AMP recipe has it.

#include <torch/torch.h>

namespace ssrl {

struct RunConfig;

struct Precision {
  bool autocast = false;
  c10::DeviceType device = c10::DeviceType::CPU;
  at::ScalarType dtype = at::kBFloat16;
  bool loss_scaling = false;  // float16: dynamic loss scale
};

// What a run on `device` uses: amp on CUDA with bfloat16 where the device
// supports it (compute capability 8.0 and later), else float16 with a loss
// scale; on the CPU only with amp_cpu.
Precision precision_for(const RunConfig& cfg, torch::Device device);

// cuDNN benchmark mode and TF32 for the process, from the run's settings.
void apply_backend_settings(const RunConfig& cfg);

// The policy of the calling thread while alive (the trainer's epoch).
class PrecisionScope {
 public:
  explicit PrecisionScope(const Precision& p);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  Precision previous_;
};

const Precision& current_precision();

// Autocast on for the current policy while alive; an exception leaves it off
// and the cache cleared.
class StepAutocast {
 public:
  StepAutocast();
  ~StepAutocast();
  StepAutocast(const StepAutocast&) = delete;
  StepAutocast& operator=(const StepAutocast&) = delete;

 private:
  bool on_ = false;
  bool was_enabled_ = false;
};

// Autocast off while alive (backward, optimiser steps, fp32 reductions).
class AutocastOff {
 public:
  AutocastOff();
  ~AutocastOff();
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  bool cpu_ = false, gpu_ = false;
};

// Half-precision representations up-cast to float32 (with autocast off, for
// similarity matrices, log-sum-exp and covariances, which bfloat16 would
// round too coarsely); float32 and float64 pass unchanged.
inline torch::Tensor fp32(const torch::Tensor& z) {
  const auto t = z.scalar_type();
  return t == torch::kBFloat16 || t == torch::kHalf ? z.to(torch::kFloat) : z;
}

}  // namespace ssrl
