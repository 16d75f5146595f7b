// MoCo-v2: query encoder vs EMA key encoder, InfoNCE against a queue of past
// keys (facebookresearch/moco, moco/builder.py and main_moco.py).
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"

namespace ssrl {

MethodInfo mocov2_info() {
  MethodInfo info;
  info.name = "mocov2";
  info.display = "MoCo-v2";
  info.paradigm = Paradigm::SDMI;
  info.summary = "query encoder vs EMA key encoder (0.999), no predictor; InfoNCE of q against its key and a queue of "
                 "past keys, t = 0.2";
  info.uses = {"temperature", "queue_size", "ema_momentum", "ema_cosine"};
  info.encoders = {"f"};
  info.mi_branches = "query encoder f(view 1) vs key (momentum) encoder(view 2)";
  // main_moco.py: --moco-t 0.2 (v2), --moco-m 0.999 fixed; the 2-layer MLP head.
  // builder.py with --mlp: Linear ReLU Linear, biases, no batch norm.
  info.head = {true, false, true, true, true, "L2-normalised query and key (InfoNCE)",
               "facebookresearch/moco moco/builder.py"};
  info.defaults = {{"temperature", 0.2}, {"queue_size", 4096}, {"ema_momentum", 0.999}, {"ema_cosine", false},
                   {"proj_layers", 2}, {"proj_out_norm", "none"}};
  // The toy run has 500 steps: solo-learn's small-image base momentum 0.99
  // (scripts/pretrain/cifar/mocov2plus.yaml), a queue of two batches.
  info.gaussian_defaults = {{"queue_size", 1000}, {"ema_momentum", 0.99}};
  info.check = [](const RunConfig& c) {
    if (c.queue_size < 1) throw ConfigError("queue_size", "MoCo-v2 needs a queue of at least one negative key (got 0)");
  };
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {
namespace {

class MoCoV2 : public MethodBase {
 public:
  explicit MoCoV2(const MethodEnv& env) : MethodBase(env) {
    f_ = make_encoder();
    key_ = make_encoder();
    copy_state(*f_, *key_);
    for (auto& p : key_->parameters()) p.set_requires_grad(false);
    opt_ = &add_optimizer(f_->parameters());
    // builder.py: the queue starts as random unit vectors.
    const auto opts = torch::TensorOptions().dtype(torch::kFloat);
    queue_ = torch::randn({cfg_.queue_size, embed_dim_}, gen_, opts);
    queue_ = (queue_ / queue_.norm(2, 1, true)).to(device_);
  }

  EpochLosses train_epoch(EpochData& data) override {
    double sum = 0;
    const int steps = for_each_batch(data, [&](const torch::Tensor& x1, const torch::Tensor& x2) {
      const auto q = f_->forward(x1);
      torch::Tensor k;
      {
        torch::NoGradGuard no_grad;
        k = key_->forward(x2).to(torch::kFloat);
      }
      sum += step(*opt_, losses::moco_queue(q, k, queue_.to(q.scalar_type()), cfg_.temperature));
      ema_update(*f_, *key_, ema_momentum_at(cfg_, step_, steps_total_));
      enqueue(k);
      ++step_;
    });
    return {sum / std::max(1, steps), std::nullopt, std::nullopt};
  }

  std::vector<std::string> encoder_names() const override { return {"f"}; }
  torch::Tensor embed(const std::string&, const torch::Tensor& x) override { return forward_all(*f_, x); }
  ViewPair mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) override {
    return {forward_all(*f_, v1), forward_all(*key_, v2)};
  }
  torch::nn::Module& module(const std::string& name) override {
    if (name == "f") return *f_;
    if (name == "target") return *key_;
    no_module(name);
  }
  const torch::Tensor& queue() const { return queue_; }

 protected:
  void save_extra(torch::serialize::OutputArchive& a) override {
    a.write("queue", queue_);
    a.write("queue_ptr", torch::tensor(ptr_, torch::kLong));
  }
  void load_extra(torch::serialize::InputArchive& a) override {
    torch::Tensor ptr;
    a.read("queue", queue_);
    a.read("queue_ptr", ptr);
    queue_ = queue_.to(device_);
    ptr_ = ptr.item<std::int64_t>();
  }

 private:
  // Ring buffer: the newest keys replace the oldest (builder.py requires the
  // queue to be a multiple of the batch; here any sizes work).
  void enqueue(const torch::Tensor& keys) {
    torch::NoGradGuard no_grad;
    const std::int64_t size = queue_.size(0);
    auto k = unit_keys(keys);
    if (k.size(0) > size) k = k.narrow(0, k.size(0) - size, size);
    for (std::int64_t done = 0; done < k.size(0);) {
      const std::int64_t len = std::min(k.size(0) - done, size - ptr_);
      queue_.narrow(0, ptr_, len).copy_(k.narrow(0, done, len));
      done += len;
      ptr_ = (ptr_ + len) % size;
    }
  }
  static torch::Tensor unit_keys(const torch::Tensor& k) { return k / k.norm(2, 1, true).clamp_min(1e-12); }

  EncoderPtr f_, key_;
  torch::optim::SGD* opt_ = nullptr;
  torch::Tensor queue_;
  std::int64_t ptr_ = 0;
};

}  // namespace

std::unique_ptr<Method> make_mocov2(const MethodEnv& env) { return std::make_unique<MoCoV2>(env); }

}  // namespace ssrl
#endif
