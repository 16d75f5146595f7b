// SwAV: one encoder, scores against unit-norm prototypes, codes from
// Sinkhorn-Knopp, each view's codes predicted from the other view's scores
// (facebookresearch/swav, main_swav.py and src/resnet50.py).
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo swav_info() {
  MethodInfo info;
  info.name = "swav";
  info.display = "SwAV";
  info.paradigm = Paradigm::JMI;
  info.summary = "one encoder; scores against normalised prototypes, Sinkhorn-Knopp codes (3 iterations, eps 0.05), "
                 "swapped prediction with t = 0.1; prototypes frozen for the first epoch";
  info.uses = {"temperature", "prototypes", "sinkhorn_iters", "sinkhorn_eps", "freeze_prototypes_epochs", "queue_size"};
  info.encoders = {"f"};
  info.mi_branches = "f(view 1) vs f(view 2), before the prototypes";
  // main_swav.py: --temperature 0.1 --epsilon 0.05 --sinkhorn_iterations 3
  // --nmb_prototypes 3000 --queue_length 0 --feat_dim 128, hidden_mlp 2048;
  // freeze_prototypes_niters 313 is one epoch of its batch of 4096.
  info.defaults = {{"temperature", 0.1}, {"prototypes", 3000}, {"sinkhorn_iters", 3},      {"sinkhorn_eps", 0.05},
                   {"freeze_prototypes_epochs", 1}, {"queue_size", 0}, {"proj_layers", 2}, {"proj_hidden", 2048},
                   {"proj_dim", 128}, {"proj_out_norm", "none"}};
  // src/resnet50.py projection_head: Linear BN ReLU Linear, then normalised.
  info.head = {true, true, true, true, true, "L2-normalised projection into the prototypes",
               "facebookresearch/swav src/resnet50.py"};
  // A prototype set sized for the 3-d toy embedding.
  info.gaussian_defaults = {{"prototypes", 64}};
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {
namespace {

namespace F = torch::nn::functional;

class Swav : public MethodBase {
 public:
  explicit Swav(const MethodEnv& env) : MethodBase(env), steps_per_epoch_(std::max(1, env.steps_per_epoch)) {
    f_ = make_encoder();
    protos_ = torch::nn::Linear(torch::nn::LinearOptions(embed_dim_, cfg_.prototypes).bias(false));
    init_from_generator(*protos_, gen_);
    protos_->to(device_);
    track(protos_);
    auto params = f_->parameters();
    params.push_back(protos_->weight);
    opt_ = &add_optimizer(params);
    if (cfg_.queue_size > 0)
      queue_ = torch::zeros({2, cfg_.queue_size, embed_dim_}, torch::TensorOptions().device(device_));
  }

  EpochLosses train_epoch(EpochData& data) override {
    double sum = 0;
    const int steps = for_each_batch(data, [&](const torch::Tensor& x1, const torch::Tensor& x2) {
      {
        torch::NoGradGuard no_grad;
        protos_->weight.copy_(F::normalize(protos_->weight, F::NormalizeFuncOptions().dim(1)));
      }
      const auto z1 = f_->forward(x1), z2 = f_->forward(x2);
      const auto s1 = protos_->forward(z1).to(torch::kFloat), s2 = protos_->forward(z2).to(torch::kFloat);
      const auto q1 = codes(0, s1, z1), q2 = codes(1, s2, z2);
      const auto loss = losses::swav(s1, s2, q1, q2, cfg_.temperature);
      const bool frozen = step_ < static_cast<std::int64_t>(cfg_.freeze_prototypes_epochs) * steps_per_epoch_;
      sum += step(*opt_, loss, frozen ? std::vector<torch::Tensor>{protos_->weight} : std::vector<torch::Tensor>{});
      ++step_;
    });
    return {sum / std::max(1, steps), std::nullopt, std::nullopt};
  }

  std::vector<std::string> encoder_names() const override { return {"f"}; }
  torch::Tensor embed(const std::string&, const torch::Tensor& x) override { return forward_all(*f_, x); }
  ViewPair mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) override {
    return {forward_all(*f_, v1), forward_all(*f_, v2)};
  }
  torch::nn::Module& module(const std::string& name) override {
    if (name == "f") return *f_;
    if (name == "prototypes") return *protos_;
    no_module(name);
  }

 protected:
  void save_extra(torch::serialize::OutputArchive& a) override {
    if (!queue_.defined()) return;
    a.write("queue", queue_);
    a.write("queue_filled", torch::tensor(filled_, torch::kLong));
  }
  void load_extra(torch::serialize::InputArchive& a) override {
    if (!queue_.defined()) return;
    torch::Tensor filled;
    a.read("queue", queue_);
    a.read("queue_filled", filled);
    queue_ = queue_.to(device_);
    filled_ = filled.item<std::int64_t>();
  }

 private:
  // Codes of one view's batch. With a queue, its embeddings (scored by the
  // current prototypes) join the batch in Sinkhorn once it is full; then the
  // batch's embeddings enter the queue.
  torch::Tensor codes(int view, const torch::Tensor& scores, const torch::Tensor& z) {
    torch::NoGradGuard no_grad;
    auto out = scores.detach();
    const std::int64_t bs = out.size(0);
    if (queue_.defined()) {
      auto q = queue_[view];
      if (filled_ >= q.size(0)) out = torch::cat({protos_->forward(q.to(z.scalar_type())).to(torch::kFloat), out});
      queue_[view].copy_(torch::cat({z.detach().to(torch::kFloat), q}).narrow(0, 0, q.size(0)));
      if (view == 1) filled_ += bs;
    }
    return losses::sinkhorn(out, cfg_.sinkhorn_eps, cfg_.sinkhorn_iters).narrow(0, out.size(0) - bs, bs);
  }

  std::int64_t steps_per_epoch_;
  EncoderPtr f_;
  torch::nn::Linear protos_{nullptr};
  torch::optim::SGD* opt_ = nullptr;
  torch::Tensor queue_;
  std::int64_t filled_ = 0;
};

}  // namespace

std::unique_ptr<Method> make_swav(const MethodEnv& env) { return std::make_unique<Swav>(env); }

}  // namespace ssrl
#endif
