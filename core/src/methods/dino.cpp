// DINO: student vs EMA teacher, each ending in a weight-normalised prototype
// layer; cross-entropy between the centred, sharpened teacher softmax and the
// student's (facebookresearch/dino, main_dino.py and vision_transformer.py DINOHead).
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo dino_info() {
  MethodInfo info;
  info.name = "dino";
  info.display = "DINO";
  info.paradigm = Paradigm::SDMI;
  info.summary = "student vs EMA teacher (0.996, cosine to 1), weight-normalised prototype layer; CE of the centred "
                 "teacher softmax (t 0.04) against the student's (t 0.1) across the two views";
  info.uses = {"temperature", "teacher_temp", "warmup_teacher_temp", "warmup_teacher_temp_epochs", "center_momentum",
               "prototypes", "freeze_prototypes_epochs", "ema_momentum", "ema_cosine"};
  info.encoders = {"f"};
  info.mi_branches = "student f(view 1) vs EMA teacher(view 2), before the prototype layer";
  // main_dino.py: out_dim, teacher temperatures, momentum_teacher, freeze_last_layer;
  // DINOHead: 3 layers, 2048 wide, bottleneck 256. The prototype count is
  // solo-learn's small-image value (scripts/pretrain/cifar/dino.yaml).
  info.defaults = {{"temperature", 0.1},       {"teacher_temp", 0.04},    {"warmup_teacher_temp", 0.04},
                   {"warmup_teacher_temp_epochs", 0}, {"center_momentum", 0.9}, {"prototypes", 4096},
                   {"freeze_prototypes_epochs", 1}, {"ema_momentum", 0.996}, {"ema_cosine", true},
                   {"proj_layers", 3},          {"proj_hidden", 2048},     {"proj_dim", 256},
                   {"proj_out_norm", "none"}};
  // DINOHead (use_bn=False): Linear GELU Linear GELU Linear, biases; ReLU here.
  info.head = {true, false, true, true, true, "L2-normalised projection into the weight-normalised prototype layer",
               "facebookresearch/dino vision_transformer.py"};
  // A prototype layer sized for the 3-d toy embedding.
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

// DINOHead's last layer: weight_norm(Linear(d, K, bias=False)) with g fixed
// at 1, i.e. scores against unit-norm prototype rows.
torch::Tensor prototype_scores(torch::nn::Linear& layer, const torch::Tensor& z) {
  return F::linear(z, F::normalize(layer->weight, F::NormalizeFuncOptions().dim(1)));
}

class Dino : public MethodBase {
 public:
  explicit Dino(const MethodEnv& env) : MethodBase(env), steps_per_epoch_(std::max(1, env.steps_per_epoch)) {
    student_ = make_encoder();
    teacher_ = make_encoder();
    head_s_ = make_prototypes();
    head_t_ = make_prototypes();
    copy_state(*student_, *teacher_);
    copy_state(*head_s_, *head_t_);
    for (auto& p : teacher_->parameters()) p.set_requires_grad(false);
    for (auto& p : head_t_->parameters()) p.set_requires_grad(false);
    auto params = student_->parameters();
    for (auto& p : head_s_->parameters()) params.push_back(p);
    opt_ = &add_optimizer(params);
    center_ = torch::zeros({1, cfg_.prototypes}, torch::TensorOptions().device(device_));
  }

  EpochLosses train_epoch(EpochData& data) override {
    double sum = 0;
    const int steps = for_each_batch(data, [&](const torch::Tensor& x1, const torch::Tensor& x2) {
      const int epoch = static_cast<int>(step_ / steps_per_epoch_);
      const auto s1 = prototype_scores(head_s_, student_->forward(x1));
      const auto s2 = prototype_scores(head_s_, student_->forward(x2));
      torch::Tensor t1, t2;
      {
        torch::NoGradGuard no_grad;
        t1 = prototype_scores(head_t_, teacher_->forward(x1)).to(torch::kFloat);
        t2 = prototype_scores(head_t_, teacher_->forward(x2)).to(torch::kFloat);
      }
      const auto loss = losses::dino(s1.to(torch::kFloat), s2.to(torch::kFloat), t1, t2, center_, cfg_.temperature,
                                     losses::dino_teacher_temp(cfg_.warmup_teacher_temp, cfg_.teacher_temp,
                                                               cfg_.warmup_teacher_temp_epochs, epoch));
      // main_dino.py cancels the last layer's gradients in the first epochs.
      const bool frozen = epoch < cfg_.freeze_prototypes_epochs;
      sum += step(*opt_, loss, frozen ? head_s_->parameters() : std::vector<torch::Tensor>{});
      {
        torch::NoGradGuard no_grad;
        const double m = cfg_.center_momentum;
        center_ = center_ * m + torch::cat({t1, t2}).mean(0, /*keepdim=*/true) * (1.0 - m);
      }
      const double tau = ema_momentum_at(cfg_, step_, steps_total_);
      ema_update(*student_, *teacher_, tau);
      ema_update(*head_s_, *head_t_, tau);
      ++step_;
    });
    return {sum / std::max(1, steps), std::nullopt, std::nullopt};
  }

  std::vector<std::string> encoder_names() const override { return {"f"}; }
  torch::Tensor embed(const std::string&, const torch::Tensor& x) override { return forward_all(*student_, x); }
  ViewPair mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) override {
    return {forward_all(*student_, v1), forward_all(*teacher_, v2)};
  }
  torch::nn::Module& module(const std::string& name) override {
    if (name == "f") return *student_;
    if (name == "target") return *teacher_;
    if (name == "prototypes") return *head_s_;
    if (name == "target_prototypes") return *head_t_;
    no_module(name);
  }

 protected:
  void save_extra(torch::serialize::OutputArchive& a) override { a.write("center", center_); }
  void load_extra(torch::serialize::InputArchive& a) override {
    a.read("center", center_);
    center_ = center_.to(device_);
  }

 private:
  torch::nn::Linear make_prototypes() {
    torch::nn::Linear layer(torch::nn::LinearOptions(embed_dim_, cfg_.prototypes).bias(false));
    init_from_generator(*layer, gen_);
    layer->to(device_);
    return track(layer);
  }

  std::int64_t steps_per_epoch_;
  EncoderPtr student_, teacher_;
  torch::nn::Linear head_s_{nullptr}, head_t_{nullptr};
  torch::optim::SGD* opt_ = nullptr;
  torch::Tensor center_;
};

}  // namespace

std::unique_ptr<Method> make_dino(const MethodEnv& env) { return std::make_unique<Dino>(env); }

}  // namespace ssrl
#endif
