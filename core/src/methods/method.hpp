#pragma once
// The framework a method file builds on. A method supplies its networks and
// its loss; the shared bases here do batching, optimisers, schedules, EMA
// targets, checkpoint state and the MI branches.

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/encoders.hpp"
#include "ssrl/config.hpp"
#include "ssrl/methods.hpp"
#include "training/precision.hpp"

namespace ssrl {

struct MethodEnv {
  const RunConfig& cfg;
  torch::Device device;
  at::Generator& gen;
  std::function<EncoderPtr()> make_encoder;  // a fresh, uninitialised encoder
  std::int64_t embed_dim = 3;                // the projection's width (predictor in and out)
  int steps_per_epoch = 1;                   // minibatches in one pass over the data
  // Tells the trainer which part of the epoch is running (may be empty).
  std::function<void(const std::string&)> phase = nullptr;
};

using ViewPair = std::pair<torch::Tensor, torch::Tensor>;

// The views of one epoch, cut into minibatches on demand.
class EpochData {
 public:
  virtual ~EpochData() = default;
  // Starts a pass in a fresh random order; returns the number of batches.
  // Fewer when a stop was requested: the pass ends after the current step.
  virtual int begin_pass() = 0;
  virtual ViewPair batch(int i) = 0;
  // True when the pass was cut short by a stop request.
  virtual bool interrupted() const { return false; }
};

// fn(x1, x2) for every batch of a new pass; returns how many ran.
template <class Fn>
int for_each_batch(EpochData& data, Fn&& fn) {
  const int n = data.begin_pass();
  int done = 0;
  for (int i = 0; i < n && !data.interrupted(); ++i, ++done) {
    auto [x1, x2] = data.batch(i);
    const StepAutocast autocast;  // this step's forward and loss in the run's precision
    fn(x1, x2);
  }
  return done;
}

struct EpochLosses {
  double loss = 0;                // mean over the epoch's steps
  std::optional<double> phase_e;  // SDMI: E-phase mean (f)
  std::optional<double> phase_m;  // SDMI: M-phase mean (g)
};

class Method {
 public:
  virtual ~Method() = default;
  virtual EpochLosses train_epoch(EpochData& data) = 0;
  // Sets every optimiser's learning rate for the coming epoch.
  virtual void set_lr(double lr) = 0;
  virtual void set_training(bool on) = 0;
  // Encoders the run reports on ("f", "g").
  virtual std::vector<std::string> encoder_names() const = 0;
  virtual torch::Tensor embed(const std::string& encoder, const torch::Tensor& x) = 0;
  // Backbone features (linear probe, kNN).
  virtual torch::Tensor features(const std::string& encoder, const torch::Tensor& x) = 0;
  // The affine output norm's scale vector of an encoder; undefined if none.
  virtual torch::Tensor out_scale(const std::string& encoder) = 0;
  // Branch A and branch B outputs for the MI estimates, once per epoch in
  // eval mode. An undefined B means "no value this epoch".
  virtual ViewPair mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) = 0;
  // A named network of the method ("f", "g", "target", "predictor", ...);
  // throws std::out_of_range for names it does not have.
  virtual torch::nn::Module& module(const std::string& name) = 0;
  // Everything needed to continue training exactly: networks, optimisers,
  // step counters and cached tensors.
  virtual void save(torch::serialize::OutputArchive& archive) = 0;
  virtual void load(torch::serialize::InputArchive& archive) = 0;
};

// Methods with E/M phases (SDMI) expose one phase at a time.
class PhasedMethod {
 public:
  virtual ~PhasedMethod() = default;
  enum class Phase { E, M };
  // One pass over the data updating f (E) or g (M); returns the mean loss.
  virtual double train_phase(EpochData& data, Phase phase) = 0;
};

// Optimisers, modules and small helpers every method needs.
class MethodBase : public Method {
 public:
  explicit MethodBase(const MethodEnv& env);
  void set_lr(double lr) override;
  void set_training(bool on) override;
  torch::Tensor features(const std::string& encoder, const torch::Tensor& x) override;
  torch::Tensor out_scale(const std::string& encoder) override { return encoder_for(encoder).out_scale(); }
  void save(torch::serialize::OutputArchive& archive) override;
  void load(torch::serialize::InputArchive& archive) override;

 protected:
  EncoderPtr make_encoder();
  Predictor make_predictor();
  torch::optim::SGD& add_optimizer(const std::vector<torch::Tensor>& params);
  // zero_grad, backward, step; returns the loss value (the step's one
  // host-device synchronisation).
  double step(torch::optim::Optimizer& opt, const torch::Tensor& loss);
  // The same, but `frozen` get no update this step: their gradients are
  // dropped before the step, as SwAV and DINO do for their prototypes.
  double step(torch::optim::Optimizer& opt, const torch::Tensor& loss, const std::vector<torch::Tensor>& frozen);
  [[noreturn]] static void no_module(const std::string& name);
  EncoderNet& encoder_for(const std::string& name);
  // The encoder on many inputs: in chunks when no graph is being built.
  static torch::Tensor forward_all(EncoderNet& e, const torch::Tensor& x);
  template <class M>
  M track(M module) {
    modules_.push_back(module.ptr());
    return module;
  }
  EncoderPtr track(EncoderPtr e) {
    modules_.push_back(e);
    return e;
  }
  // Extra state a method keeps besides modules and optimisers.
  virtual void save_extra(torch::serialize::OutputArchive&) {}
  virtual void load_extra(torch::serialize::InputArchive&) {}
  void announce(const std::string& phase) const {
    if (phase_) phase_(phase);
  }

  RunConfig cfg_;
  torch::Device device_;
  at::Generator& gen_;
  std::function<EncoderPtr()> make_encoder_;
  std::int64_t embed_dim_;
  std::int64_t steps_total_;
  std::int64_t step_ = 0;
  std::function<void(const std::string&)> phase_;

 private:
  double loss_scale_ = 65536.0;  // float16 autocast: dynamic loss scale
  int steps_since_overflow_ = 0;
  std::vector<std::unique_ptr<torch::optim::SGD>> optims_;
  std::vector<std::shared_ptr<torch::nn::Module>> modules_;
};

// JMI family: one shared encoder f, both views, one joint step per batch.
using PairLoss = std::function<torch::Tensor(const torch::Tensor& z1, const torch::Tensor& z2)>;

class JointMethod : public MethodBase {
 public:
  JointMethod(const MethodEnv& env, PairLoss loss);
  EpochLosses train_epoch(EpochData& data) override;
  std::vector<std::string> encoder_names() const override { return {"f"}; }
  torch::Tensor embed(const std::string& encoder, const torch::Tensor& x) override;
  ViewPair mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) override;
  torch::nn::Module& module(const std::string& name) override;

 private:
  PairLoss loss_;
  EncoderPtr f_;
  torch::optim::SGD* opt_ = nullptr;
};

// Online encoder + predictor against an EMA target (BYOL, MoCo-v3).
// The loss gets the online prediction and the (detached) target output of
// the other view; it is summed over both view orders.
class MomentumMethod : public MethodBase {
 public:
  MomentumMethod(const MethodEnv& env, PairLoss loss);
  EpochLosses train_epoch(EpochData& data) override;
  std::vector<std::string> encoder_names() const override { return {"f"}; }
  torch::Tensor embed(const std::string& encoder, const torch::Tensor& x) override;
  ViewPair mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) override;
  torch::nn::Module& module(const std::string& name) override;
  // tau_k = 1 - (1 - base)(cos(pi k / K) + 1) / 2 with ema_cosine, else base.
  double momentum_at(std::int64_t step) const;

 private:
  PairLoss loss_;
  EncoderPtr f_, target_;
  Predictor pred_{nullptr};
  torch::optim::SGD* opt_ = nullptr;
};

// EMA momentum at step k of K: the base, or with ema_cosine
// 1 - (1 - base)(cos(pi k / K) + 1) / 2 (BYOL, MoCo, DINO).
double ema_momentum_at(const RunConfig& cfg, std::int64_t k, std::int64_t total);

// The method the config names (its base method, for a variant), built from
// the registry (registry.hpp).
std::unique_ptr<Method> make_method(const MethodEnv& env);

}  // namespace ssrl
