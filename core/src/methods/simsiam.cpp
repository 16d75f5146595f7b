// SimSiam: one encoder + predictor, negative cosine against the stop-gradient
// of the other branch, symmetric. With loss=cos-dv and no predictor it is
// the SimSiam-SDMI variant.
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo simsiam_info() {
  MethodInfo info;
  info.name = "simsiam";
  info.display = "SimSiam";
  info.paradigm = Paradigm::SDMI;
  info.summary = "encoder + predictor; D(p1, sg z2)/2 + D(p2, sg z1)/2 with D = -cos";
  info.uses = {"predictor", "predictor_hidden", "loss", "temperature", "marginal"};
  info.encoders = {"f"};
  info.mi_branches = "f(view 1) vs f at the end of the previous epoch (view 2); none in epoch 1";
  // vturrisi/solo-learn solo/methods/simsiam.py (small images), as
  // facebookresearch/simsiam simsiam/builder.py: no bias before BN (the output
  // Linear's bias is frozen there, so it is left out), BN without affine.
  info.head = {false, true, false, false, true, "raw projection / prediction; -cos L2-normalises",
               "vturrisi/solo-learn solo/methods/simsiam.py"};
  info.defaults = {{"predictor", true}, {"loss", "neg-cosine"}, {"temperature", 0.1}, {"marginal", true}, {"proj_out_norm", "bn"}};
  info.used_only_when = {{"temperature", {{"loss", "cos-dv"}}}, {"marginal", {{"loss", "cos-dv"}}}};
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {
namespace {

class SimSiam : public MethodBase {
 public:
  explicit SimSiam(const MethodEnv& env) : MethodBase(env) {
    f_ = make_encoder();
    auto params = f_->parameters();
    if (cfg_.predictor) {
      pred_ = make_predictor();
      for (auto& p : pred_->parameters()) params.push_back(p);
    }
    opt_ = &add_optimizer(params);
  }

  EpochLosses train_epoch(EpochData& data) override {
    double sum = 0;
    const int steps = for_each_batch(data, [&](const torch::Tensor& x1, const torch::Tensor& x2) {
      const auto z1 = f_->project(x1), z2 = f_->project(x2);
      const auto p1 = cfg_.predictor ? pred_->forward(z1) : z1;
      const auto p2 = cfg_.predictor ? pred_->forward(z2) : z2;
      sum += step(*opt_, 0.5 * (pair_loss(p1, z2.detach()) + pair_loss(p2, z1.detach())));
      ++step_;
    });
    return {sum / std::max(1, steps), std::nullopt, std::nullopt};
  }

  std::vector<std::string> encoder_names() const override { return {"f"}; }
  torch::nn::Module& module(const std::string& name) override {
    if (name == "f") return *f_;
    if (name == "predictor" && cfg_.predictor) return *pred_;
    no_module(name);
  }
  torch::Tensor embed(const std::string&, const torch::Tensor& x) override { return forward_all(*f_, x); }

  // No persistent target: branch B is the encoder as it was at the end of
  // the previous epoch, i.e. last epoch's output on the same fixed view 2.
  ViewPair mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) override {
    auto previous = previous_v2_;
    previous_v2_ = forward_all(*f_, v2);
    return {forward_all(*f_, v1), previous};
  }

 protected:
  // Last epoch's view-2 output is branch B of the next MI estimate.
  void save_extra(torch::serialize::OutputArchive& a) override {
    a.write("previous_v2", previous_v2_.defined() ? previous_v2_ : torch::empty({0}));
  }
  void load_extra(torch::serialize::InputArchive& a) override {
    torch::Tensor t;
    a.read("previous_v2", t);
    previous_v2_ = t.numel() > 0 ? t.to(device_) : torch::Tensor();
  }

 private:
  torch::Tensor pair_loss(const torch::Tensor& p, const torch::Tensor& z) const {
    if (cfg_.loss == "cos-dv") return losses::cos_dv(p, z, cfg_.temperature, cfg_.marginal);
    return losses::neg_cosine(p, z);
  }

  EncoderPtr f_;
  Predictor pred_{nullptr};
  torch::optim::SGD* opt_ = nullptr;
  torch::Tensor previous_v2_;
};

}  // namespace

std::unique_ptr<Method> make_simsiam(const MethodEnv& env) {
  return std::make_unique<SimSiam>(env);
}

}  // namespace ssrl
#endif
