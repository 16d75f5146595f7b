#include "training/distributed.hpp"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#ifdef SSRL_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <stdexcept>

#include "ssrl/errors.hpp"

namespace ssrl::dist {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// LibTorch 2 split process groups into a front end and per-device backends;
// Gloo and NCCL are backends there.
#if TORCH_VERSION_MAJOR >= 2
using Group = c10d::Backend;
#else
using Group = c10d::ProcessGroup;
#endif

struct Context {
  int rank = 0, world = 1;
  bool sync_bn = true;
  c10::intrusive_ptr<Group> pg;
  const StopFlag* user_stop = nullptr;
  StopFlag agreed;
  std::int64_t global_rows = 0;  // of the batch data_parallel() is computing
  std::int64_t batch_rows = 0;   // of the training batch the data handed out last
};

Context* g_ctx = nullptr;  // one data-parallel run per process

void all_reduce_inplace(torch::Tensor& t) {
  std::vector<torch::Tensor> v{t};
  g_ctx->pg->allreduce(v)->wait();
}

std::pair<std::int64_t, std::int64_t> rows_of(std::int64_t n, int r, int world) { return dist::rows_of(n, Shard{r, world}); }

Shard g_test_shard;  // ShardForTest's, when no process group is joined

// Rows of every rank gathered in rank order: the shares differ by at most
// one row, so the short ones travel padded to the widest.
torch::Tensor allgather_rows(const torch::Tensor& local, std::int64_t global_n) {
  const int world = g_ctx->world;
  const std::int64_t widest = rows_of(global_n, 0, world).second;
  torch::Tensor padded = local.contiguous();
  if (local.size(0) < widest) {
    auto shape = local.sizes().vec();
    shape[0] = widest - local.size(0);
    padded = torch::cat({padded, torch::zeros(shape, local.options())});
  }
  std::vector<std::vector<torch::Tensor>> outs(1);
  for (int r = 0; r < world; ++r) outs[0].push_back(torch::empty_like(padded));
  std::vector<torch::Tensor> in{padded};
  g_ctx->pg->allgather(outs, in)->wait();
  std::vector<torch::Tensor> parts;
  for (int r = 0; r < world; ++r) parts.push_back(outs[0][r].narrow(0, 0, rows_of(global_n, r, world).second));
  return torch::cat(parts);
}

struct GatherRows : torch::autograd::Function<GatherRows> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& local, std::int64_t global_n) {
    const auto [offset, count] = rows_of(global_n, g_ctx->rank, g_ctx->world);
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["count"] = count;
    return allgather_rows(local, global_n);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto offset = ctx->saved_data["offset"].toInt(), count = ctx->saved_data["count"].toInt();
    return {grads[0].narrow(0, offset, count) * static_cast<double>(g_ctx->world), torch::Tensor()};
  }
};

// Batch norm over the global batch with LibTorch's own kernels: local
// statistics (var_mean), one all-reduce of the per-channel count-weighted
// moments in double, the inference kernel with the global mean and
// variance; backward: the inference backward kernel gives g * w * invstd and
// the local sums of g and g * xhat, one all-reduce of those, and the mean
// terms of the training-mode gradient. The manual double-precision formula
// this replaces cost more elementwise passes than the convolutions.
// (The scheme of PyTorch's torch/nn/modules/_functions.py SyncBatchNorm.)
struct SyncBatchNorm : torch::autograd::Function<SyncBatchNorm> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in, const torch::Tensor& weight,
                               const torch::Tensor& bias, torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double eps, bool track, std::int64_t global_rows) {
    const auto x = x_in.scalar_type() == torch::kFloat || x_in.scalar_type() == torch::kDouble ? x_in : x_in.to(torch::kFloat);
    const std::int64_t channels = x.size(1);
    const double local = static_cast<double>(x.numel() / channels);
    const double count = static_cast<double>(global_rows) * static_cast<double>(x.numel() / (x.size(0) * channels));
    // Local moments to float rounding (batch norm's own statistics kernel,
    // 4x faster than var_mean here); E[x^2] - E[x]^2 of the whole batch in
    // double from them.
    const auto [mean_l, var_l] = at::batch_norm_update_stats(x, {}, {}, 0.0);
    const auto mean_d = mean_l.to(torch::kDouble), var_d = var_l.to(torch::kDouble);
    auto sums = torch::cat({mean_d * local, (var_d + mean_d * mean_d) * local});
    all_reduce_inplace(sums);
    const auto mean_g = sums.narrow(0, 0, channels) / count;
    const auto var_g = (sums.narrow(0, channels, channels) / count - mean_g * mean_g).clamp_min(0);
    const auto mean = mean_g.to(x.scalar_type()), var = var_g.to(x.scalar_type());
    const auto w = weight.to(x.scalar_type());
    const auto y = torch::batch_norm(x, w, bias.to(x.scalar_type()), mean, var, /*training=*/false, 0.0, eps,
                                     /*cudnn_enabled=*/false);
    if (track) {
      torch::NoGradGuard no_grad;
      running_mean.mul_(1 - momentum).add_(mean.to(running_mean.scalar_type()), momentum);
      running_var.mul_(1 - momentum).add_((var * (count / std::max(1.0, count - 1))).to(running_var.scalar_type()), momentum);
    }
    ctx->save_for_backward({x, w, mean, var});
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["count"] = count;
    return y.to(x_in.scalar_type());
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1], &mean = saved[2], &var = saved[3];
    const double eps = ctx->saved_data["eps"].toDouble(), count = ctx->saved_data["count"].toDouble();
    const auto g = grads[0].to(x.scalar_type()).contiguous(x.suggest_memory_format());
    const std::int64_t channels = x.size(1);
    // Inference-mode backward: g * w * invstd, sum(g * xhat), sum(g) over this rank's rows.
    const auto invstd = torch::rsqrt(var + eps);
    auto [gx, gw, gb] = torch::native_batch_norm_backward(g, x, w, mean, var, invstd, invstd,
                                                           /*train=*/false, eps, {true, true, true});
    auto sums = torch::cat({gb, gw}).to(torch::kDouble);
    all_reduce_inplace(sums);
    sums = (sums / count).to(x.scalar_type());
    std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
    shape[1] = channels;
    // dL/dx = w invstd (g - mean(g) - xhat mean(g xhat)), means over the
    // global batch: gx - k1 x - k0 with per-channel k1, k0, in place.
    const auto mean_g = sums.narrow(0, 0, channels), mean_gx = sums.narrow(0, channels, channels);
    const auto scale = w * invstd, k1 = scale * invstd * mean_gx;
    const auto k0 = scale * mean_g - k1 * mean;
    auto dx = gx.sub_(k0.view(shape)).addcmul_(x, k1.view(shape), -1);
    return {dx.to(grads[0].scalar_type()), gw, gb, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

template <class BN>
torch::Tensor sync_norm(BN& bn, const torch::Tensor& x) {
  if (g_ctx == nullptr || !g_ctx->sync_bn || !bn->is_training() || g_ctx->global_rows == 0) return bn(x);
  const auto& o = bn->options;
  const std::int64_t c = x.size(1);
  const auto opts = x.options().dtype(torch::kFloat);
  // Every input defined (autograd functions take no undefined tensors): a
  // scale of one and no shift without affine parameters, empty buffers
  // without running statistics.
  if (o.track_running_stats()) bn->num_batches_tracked.add_(1);
  return SyncBatchNorm::apply(x, o.affine() ? bn->weight : torch::ones({c}, opts), o.affine() ? bn->bias : torch::zeros({c}, opts),
                              o.track_running_stats() ? bn->running_mean : torch::empty({0}, opts),
                              o.track_running_stats() ? bn->running_var : torch::empty({0}, opts), o.momentum().value_or(0.1),
                              o.eps(), o.track_running_stats(), g_ctx->global_rows);
}

}  // namespace

bool active() { return g_ctx != nullptr; }
int rank() { return g_ctx != nullptr ? g_ctx->rank : 0; }
int world() { return g_ctx != nullptr ? g_ctx->world : 1; }

Shard shard() { return g_ctx != nullptr ? Shard{g_ctx->rank, g_ctx->world} : g_test_shard; }

std::pair<std::int64_t, std::int64_t> rows_of(std::int64_t n, const Shard& s) {
  const std::int64_t base = n / s.world, extra = n % s.world;
  const std::int64_t count = base + (s.rank < extra ? 1 : 0);
  const std::int64_t offset = s.rank * base + std::min<std::int64_t>(s.rank, extra);
  return {offset, count};
}

std::pair<std::int64_t, std::int64_t> batch_rows(std::int64_t n) {
  if (g_ctx != nullptr) g_ctx->batch_rows = n;
  return rows_of(n, shard());
}

ShardForTest::ShardForTest(int rank, int world) {
  if (g_ctx != nullptr) throw std::logic_error("ShardForTest inside a data-parallel run");
  g_test_shard = Shard{rank, world};
}
ShardForTest::~ShardForTest() { g_test_shard = Shard{}; }

std::pair<std::int64_t, std::int64_t> eval_rows(std::int64_t n) {
  if (g_ctx == nullptr || n < g_ctx->world) return {0, n};
  return rows_of(n, g_ctx->rank, g_ctx->world);
}

torch::Tensor gather_rows(const torch::Tensor& local, std::int64_t n) {
  if (g_ctx == nullptr || n < g_ctx->world) return local;
  torch::NoGradGuard no_grad;
  return allgather_rows(local, n);
}

torch::Tensor sharded(const torch::Tensor& x, const std::function<torch::Tensor(const torch::Tensor&)>& fn) {
  const auto [offset, count] = eval_rows(x.size(0));
  return gather_rows(fn(x.narrow(0, offset, count)), x.size(0));
}

Scope::Scope(const DataParallel& config, const StopFlag* user_stop, torch::Device device) {
  if (g_ctx != nullptr) throw std::logic_error("one data-parallel run per process");
  if (config.world < 2) throw std::logic_error("dist::Scope needs two or more processes");
  if (config.rank < 0 || config.rank >= config.world)
    throw ConfigError("rank", "rank " + std::to_string(config.rank) + " is outside 0.." + std::to_string(config.world - 1));
  if (config.master_port <= 0 || config.master_port > 65535)
    throw ConfigError("master_port", "data-parallel runs need a port for the rendezvous (got " + std::to_string(config.master_port) + ")");
  auto ctx = std::make_unique<Context>();
  ctx->rank = config.rank;
  ctx->world = config.world;
  ctx->sync_bn = config.sync_bn;
  ctx->user_stop = user_stop;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(config.master_port);
    so.isServer = config.rank == 0;
    so.numWorkers = static_cast<std::size_t>(config.world);
    so.waitWorkers = true;
    so.timeout = std::chrono::seconds(config.timeout_seconds);
    auto store = c10::make_intrusive<c10d::TCPStore>(config.master_addr, so);
    if (device.is_cuda()) {
#ifdef SSRL_WITH_NCCL
      // CUDA tensors travel GPU to GPU (NVLink, InfiniBand), not through host memory.
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = std::chrono::milliseconds(std::int64_t{1000} * config.timeout_seconds);
      ctx->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, config.rank, config.world, nccl);
      g_ctx = ctx.release();
      return;
#else
      throw ConfigError("device", "data-parallel CUDA runs need a build with NCCL (the cuda preset)");
#endif
    }
    auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(config.timeout_seconds));
    const bool loopback = config.master_addr == "127.0.0.1" || config.master_addr == "localhost";
    options->devices.push_back(loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                        : c10d::ProcessGroupGloo::createDefaultDevice());
    ctx->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, config.rank, config.world, options);
  } catch (const std::exception& e) {
    throw Error("data-parallel rendezvous at " + config.master_addr + ":" + std::to_string(config.master_port) + " (rank " +
                std::to_string(config.rank) + " of " + std::to_string(config.world) + ") failed: " + e.what());
  }
  g_ctx = ctx.release();
}

Scope::~Scope() {
  delete g_ctx;
  g_ctx = nullptr;
}

const StopFlag* Scope::agreed() const { return &g_ctx->agreed; }

torch::Tensor data_parallel(const torch::nn::Module& module, const torch::Tensor& x,
                            const std::function<torch::Tensor(const torch::Tensor&)>& fn) {
  if (g_ctx == nullptr || !module.is_training()) return fn(x);
  const std::int64_t n = g_ctx->batch_rows;
  const auto count = rows_of(n, g_ctx->rank, g_ctx->world).second;
  if (n == 0 || x.size(0) != count)
    throw std::logic_error("data-parallel forward of " + std::to_string(x.size(0)) + " rows; this rank's share of the batch is " +
                           std::to_string(count) + " of " + std::to_string(n));
  g_ctx->global_rows = n;
  auto rows = fn(x);
  g_ctx->global_rows = 0;
  return GatherRows::apply(rows, n);
}

torch::Tensor norm(torch::nn::BatchNorm1d& bn, const torch::Tensor& x) { return sync_norm(bn, x); }
torch::Tensor norm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x) { return sync_norm(bn, x); }

void average_gradients(torch::optim::Optimizer& opt) {
  if (g_ctx == nullptr) return;
  std::vector<torch::Tensor> grads;
  for (auto& group : opt.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) grads.push_back(p.grad());
  // One message: the gradients and, last, whether any rank wants to stop.
  const bool stop = g_ctx->user_stop != nullptr && g_ctx->user_stop->requested.load();
  std::vector<torch::Tensor> flat;
  for (const auto& g : grads) flat.push_back(g.reshape(-1));
  auto device_opts = grads.empty() ? torch::TensorOptions() : grads[0].options();
  flat.push_back(torch::full({1}, stop ? 1.0 : 0.0, device_opts));
  auto buffer = torch::cat(flat);
  all_reduce_inplace(buffer);
  buffer.div_(g_ctx->world);
  std::int64_t at = 0;
  for (auto& g : grads) {
    g.copy_(buffer.narrow(0, at, g.numel()).view_as(g));
    at += g.numel();
  }
  if (buffer[at].item<double>() > 0) g_ctx->agreed.requested.store(true);
}

}  // namespace ssrl::dist
