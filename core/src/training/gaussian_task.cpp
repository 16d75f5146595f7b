// The controlled Gaussian-mixture experiment (docs/science.md §5) as a task.
#include "data/gaussian_mixture.hpp"
#include "evaluation/metrics.hpp"
#include "objectives/mi.hpp"
#include "training/distributed.hpp"
#include "training/task.hpp"

namespace ssrl {
namespace {

// The epoch's two views of the whole training set, sliced per pass.
class GaussianEpochData : public EpochData {
 public:
  GaussianEpochData(torch::Tensor x1, torch::Tensor x2, int batch_size, at::Generator& gen, const StopFlag* stop)
      : x1_(std::move(x1)), x2_(std::move(x2)), batch_size_(batch_size), gen_(gen), stop_(stop) {}

  int begin_pass() override {
    const std::int64_t n = x1_.size(0);
    if (batch_size_ <= 0 || batch_size_ >= n) {
      perm_ = torch::Tensor();
      return 1;
    }
    perm_ = torch::randperm(n, gen_, torch::kLong).to(x1_.device());
    // A short last batch is dropped (it would skew batch norm and the marginal).
    return static_cast<int>(n / batch_size_);
  }

  // This rank's rows of the batch (all of them on one process).
  ViewPair batch(int i) override {
    if (!perm_.defined()) {
      const auto [offset, count] = dist::batch_rows(x1_.size(0));
      return {x1_.narrow(0, offset, count), x2_.narrow(0, offset, count)};
    }
    const auto [offset, count] = dist::batch_rows(batch_size_);
    const auto idx = perm_.narrow(0, static_cast<std::int64_t>(i) * batch_size_ + offset, count);
    return {x1_.index_select(0, idx), x2_.index_select(0, idx)};
  }

  bool interrupted() const override { return stop_ != nullptr && stop_->requested.load(); }

 private:
  torch::Tensor x1_, x2_, perm_;
  int batch_size_;
  at::Generator& gen_;
  const StopFlag* stop_;
};

class GaussianTask : public Task {
 public:
  GaussianTask(const RunConfig& cfg, torch::Device device, at::Generator& gen) : cfg_(cfg), gen_(gen) {
    data_ = make_gaussian_mixture(cfg, gen);
    data_.train_x = data_.train_x.to(device);
    data_.val_x = data_.val_x.to(device);
    data_.val_v1 = data_.val_v1.to(device);
    data_.val_v2 = data_.val_v2.to(device);
  }

  std::function<EncoderPtr()> encoder_factory() const override {
    const std::int64_t hidden = cfg_.hidden_dim;
    return [hidden] { return std::make_shared<MlpEncoder>(2, hidden, 3); };
  }
  std::int64_t embed_dim() const override { return 3; }
  int steps_per_epoch() const override {
    const std::int64_t n = data_.train_x.size(0);
    return cfg_.batch_size <= 0 ? 1 : static_cast<int>(n / cfg_.batch_size);
  }

  std::unique_ptr<EpochData> epoch_data(int, const StopFlag* stop) override {
    auto [x1, x2] = make_views(data_.train_x, cfg_.view_noise, gen_);
    return std::make_unique<GaussianEpochData>(x1, x2, cfg_.batch_size, gen_, stop);
  }

  // Rank 0 alone: milliseconds on a few thousand points.
  void evaluate(Method& method, EpochRecord& r) override {
    if (dist::shard().rank != 0) return;
    torch::NoGradGuard no_grad;
    const auto [za, zb] = method.mi_branches(data_.val_v1, data_.val_v2);
    if (zb.defined()) {
      const MiValues mi = mi_estimates(za, zb, cfg_.mi_temperature, cfg_.mi_block);
      r.mi.cos_dv = mi.cos_dv;
      r.mi.infonce = mi.infonce;
      r.mi.jsd = mi.jsd;
    }
    const auto names = method.encoder_names();
    const auto val_f = method.embed(names.front(), data_.val_x);
    r.embedding_std = embedding_std(val_f);
    r.effective_rank = effective_rank(val_f);
    // The MLP's "backbone features" are its embedding itself (docs/science.md §5).
    for (const auto& name : names) {
      const auto z = name == names.front() ? val_f : method.embed(name, data_.val_x);
      r.collapse.push_back(collapse_of(name, z, method.features(name, data_.val_x), method.out_scale(name)));
    }
    for (const auto& name : names) {
      const auto z = method.embed(name, data_.train_x);
      r.centres.push_back({name, cluster_centres(z, data_.train_y, data_.clusters)});
    }
  }

  void finish(Method&, const std::vector<EncoderCentres>& last, RunOutcome& out) override {
    for (const auto& ec : last) out.finals.push_back({ec.encoder, separation_stats(ec.centres), ec.centres});
  }

 private:
  RunConfig cfg_;
  at::Generator& gen_;
  GaussianMixture data_;
};

}  // namespace

std::unique_ptr<Task> make_gaussian_task(const RunConfig& cfg, torch::Device device, at::Generator& gen) {
  return std::make_unique<GaussianTask>(cfg, device, gen);
}

}  // namespace ssrl
