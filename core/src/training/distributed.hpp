#pragma once
// Data-parallel training over processes (c10d; Gloo, or NCCL for CUDA
// tensors). Every rank draws the same order of samples from the same seed;
// each loads and augments only its own rows of every global batch (the
// views of a sample depend on the sample, not on the rank, see
// data/augment.hpp); the encoders gather their outputs, with gradients, so
// every loss sees the global batch, and batch norm can use global
// statistics. Gradients are averaged, in one message, before each optimiser
// step. With these, N processes compute what one process computes on the
// same global batch.
//
// Gradient scale: all ranks compute the same loss L on the gathered batch.
// Rank r back-propagates world * dL/dz_r into its rows (the gather's
// backward), so averaging parameter gradients over ranks gives dL/dθ for the
// encoders (which saw local rows) and for modules applied to the gathered
// batch (predictors), whose gradients are already whole on every rank.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "ssrl/trainer.hpp"

namespace ssrl::dist {

// True while a data-parallel run with more than one process is training.
bool active();
int rank();
int world();

// This process's share of the data: rank and world of the data-parallel
// run, or those a test set with ShardForTest, else 0 of 1.
struct Shard {
  int rank = 0, world = 1;
};
Shard shard();
// Rows [offset, offset + count) of n rows that `s` takes: sizes differ by at
// most one, rank order.
std::pair<std::int64_t, std::int64_t> rows_of(std::int64_t n, const Shard& s);
// The data calls this for every training batch of n rows (global): it
// returns this process's rows, the ones it loads and passes to the method;
// data_parallel() gathers the encoders' outputs back to n rows.
std::pair<std::int64_t, std::int64_t> batch_rows(std::int64_t n);

// What the data path sees as its shard, without a process group (tests).
class ShardForTest {
 public:
  ShardForTest(int rank, int world);
  ~ShardForTest();
  ShardForTest(const ShardForTest&) = delete;
  ShardForTest& operator=(const ShardForTest&) = delete;
};

// Evaluation split over the ranks: fn on this rank's rows of x, the outputs
// gathered back in order on every rank (no autograd). Outside data-parallel
// training: fn(x). eval_rows(n) and gather_rows() are its two halves,
// for functions of several inputs.
torch::Tensor sharded(const torch::Tensor& x, const std::function<torch::Tensor(const torch::Tensor&)>& fn);
std::pair<std::int64_t, std::int64_t> eval_rows(std::int64_t n);
torch::Tensor gather_rows(const torch::Tensor& local, std::int64_t n);

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

// fn on this rank's rows x of the current global batch (see batch_rows()),
// gathered back into the global output, with gradients (training mode of
// `module` only; otherwise fn(x)).
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
