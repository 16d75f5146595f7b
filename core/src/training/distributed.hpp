#pragma once
// Data-parallel training over processes (c10d; Gloo). Every rank builds the
// same global batch from the same seed and computes its own rows of it; the
// encoders gather their outputs, with gradients, so every loss sees the
// global batch, and batch norm can use global statistics. Gradients are
// averaged before each optimiser step. With these, N processes compute what
// one process computes on the same global batch.
//
// Gradient scale: all ranks compute the same loss L on the gathered batch.
// Rank r back-propagates world * dL/dz_r into its rows (the gather's
// backward), so averaging parameter gradients over ranks gives dL/dθ for the
// encoders (which saw local rows) and for modules applied to the gathered
// batch (predictors), whose gradients are already whole on every rank.

#include <torch/torch.h>

#include <functional>
#include <memory>

#include "ssrl/trainer.hpp"

namespace ssrl::dist {

// True while a data-parallel run with more than one process is training.
bool active();
int rank();
int world();

// Joins the process group for the lifetime of the scope (one per process at
// a time). The stop flag the trainer must obey is agreed(): a stop asked for
// on any rank is taken by all ranks at the same step.
class Scope {
 public:
  // CUDA devices use NCCL (CUDA builds), others Gloo.
  Scope(const DataParallel& config, const StopFlag* user_stop, torch::Device device);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  const StopFlag* agreed() const;
};

// fn on this rank's rows of the global batch x, gathered back into the
// global output (training mode of `module` only; otherwise fn(x)).
torch::Tensor data_parallel(const torch::nn::Module& module, const torch::Tensor& x,
                            const std::function<torch::Tensor(const torch::Tensor&)>& fn);

// Batch norm that, in a data-parallel forward, normalises with the global
// batch's statistics; otherwise the module itself.
torch::Tensor norm(torch::nn::BatchNorm1d& bn, const torch::Tensor& x);
torch::Tensor norm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x);

// Averages the gradients of the optimiser's parameters over the ranks (and
// agrees on a stop). No-op outside data-parallel training.
void average_gradients(torch::optim::Optimizer& opt);

}  // namespace ssrl::dist
