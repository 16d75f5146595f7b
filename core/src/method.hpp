#pragma once
// The framework a method file builds on. A method supplies its networks and
// its loss; the shared bases here do views, batching, optimisers, schedules,
// EMA targets and the MI branches.

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nets.hpp"
#include "ssrl/config.hpp"
#include "ssrl/methods.hpp"

namespace ssrl {

struct MethodEnv {
  const RunConfig& cfg;
  torch::Device device;
  at::Generator& gen;
  std::int64_t input_dim = 2;
  std::int64_t embed_dim = 3;
  int steps_per_epoch = 1;  // minibatches in one pass over the data
  // Tells the trainer which part of the epoch is running (may be empty).
  std::function<void(const std::string&)> phase = nullptr;
};

using ViewPair = std::pair<torch::Tensor, torch::Tensor>;

// The epoch's two views of the whole training set, cut into minibatches.
class EpochData {
 public:
  EpochData(torch::Tensor x1, torch::Tensor x2, int batch_size, at::Generator& gen);
  // A fresh random order each call; the full batch is a single unshuffled batch.
  std::vector<ViewPair> batches();

 private:
  torch::Tensor x1_, x2_;
  int batch_size_;
  at::Generator& gen_;
};

struct EpochLosses {
  double loss = 0;               // mean over the epoch's steps
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
  // Encoders whose cluster centres are tracked ("f", "g").
  virtual std::vector<std::string> encoder_names() const = 0;
  virtual torch::Tensor embed(const std::string& encoder, const torch::Tensor& x) = 0;
  // Branch A and branch B outputs for the MI estimates, once per epoch in
  // eval mode. An undefined B means "no value this epoch".
  virtual ViewPair mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) = 0;
  // A named network of the method ("f", "g", "target", "predictor", ...);
  // throws std::out_of_range for names it does not have. For tests and
  // checkpoints.
  virtual torch::nn::Module& module(const std::string& name) = 0;
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

 protected:
  MlpEncoder make_encoder();
  Predictor make_predictor();
  torch::optim::SGD& add_optimizer(const std::vector<torch::Tensor>& params);
  // zero_grad, backward, step; returns the loss value.
  static double step(torch::optim::Optimizer& opt, const torch::Tensor& loss);
  [[noreturn]] static void no_module(const std::string& name);
  template <class M>
  M track(M module) {
    modules_.push_back(module.ptr());
    return module;
  }

  RunConfig cfg_;
  torch::Device device_;
  at::Generator& gen_;
  std::int64_t input_dim_, embed_dim_;
  std::int64_t steps_total_;
  std::int64_t step_ = 0;
  std::function<void(const std::string&)> phase_;
  void announce(const std::string& phase) const {
    if (phase_) phase_(phase);
  }

 private:
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
  MlpEncoder f_{nullptr};
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
  MlpEncoder f_{nullptr}, target_{nullptr};
  Predictor pred_{nullptr};
  torch::optim::SGD* opt_ = nullptr;
};

// What a method file declares: its plain description and its factory.
struct MethodSpec {
  MethodInfo info;
  std::function<std::unique_ptr<Method>(const MethodEnv&)> make;
};

// The registry (methods/registry.cpp).
const std::vector<MethodSpec>& method_specs();
const MethodSpec& find_spec(const std::string& base_name);

}  // namespace ssrl
