#include "method.hpp"

#include <cmath>

namespace ssrl {

EpochData::EpochData(torch::Tensor x1, torch::Tensor x2, int batch_size, at::Generator& gen)
    : x1_(std::move(x1)), x2_(std::move(x2)), batch_size_(batch_size), gen_(gen) {}

std::vector<ViewPair> EpochData::batches() {
  const std::int64_t n = x1_.size(0);
  if (batch_size_ <= 0 || batch_size_ >= n) return {{x1_, x2_}};
  const auto perm = torch::randperm(n, gen_, torch::kLong).to(x1_.device());
  std::vector<ViewPair> out;
  // A short last batch is dropped (it would skew batch norm and the marginal).
  for (std::int64_t b = 0; b + batch_size_ <= n; b += batch_size_) {
    const auto idx = perm.narrow(0, b, batch_size_);
    out.emplace_back(x1_.index_select(0, idx), x2_.index_select(0, idx));
  }
  return out;
}

MethodBase::MethodBase(const MethodEnv& env)
    : cfg_(env.cfg),
      device_(env.device),
      gen_(env.gen),
      input_dim_(env.input_dim),
      embed_dim_(env.embed_dim),
      steps_total_(static_cast<std::int64_t>(env.cfg.epochs) * env.steps_per_epoch),
      phase_(env.phase) {}

MlpEncoder MethodBase::make_encoder() {
  MlpEncoder e(input_dim_, cfg_.hidden_dim, embed_dim_);
  init_from_generator(*e, gen_);
  e->to(device_);
  return track(e);
}

Predictor MethodBase::make_predictor() {
  Predictor p(embed_dim_, cfg_.predictor_hidden);
  init_from_generator(*p, gen_);
  p->to(device_);
  return track(p);
}

torch::optim::SGD& MethodBase::add_optimizer(const std::vector<torch::Tensor>& params) {
  torch::optim::SGDOptions o(cfg_.lr);
  o.momentum(cfg_.momentum).weight_decay(cfg_.weight_decay);
  optims_.push_back(std::make_unique<torch::optim::SGD>(params, o));
  return *optims_.back();
}

void MethodBase::set_lr(double lr) {
  for (auto& opt : optims_)
    for (auto& group : opt->param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
}

void MethodBase::set_training(bool on) {
  for (auto& m : modules_) m->train(on);
}

double MethodBase::step(torch::optim::Optimizer& opt, const torch::Tensor& loss) {
  opt.zero_grad();
  loss.backward();
  opt.step();
  return loss.item<double>();
}

void MethodBase::no_module(const std::string& name) {
  throw std::out_of_range("this method has no network named '" + name + "'");
}

// ---- JMI family -------------------------------------------------------------

JointMethod::JointMethod(const MethodEnv& env, PairLoss loss) : MethodBase(env), loss_(std::move(loss)) {
  f_ = make_encoder();
  opt_ = &add_optimizer(f_->parameters());
}

EpochLosses JointMethod::train_epoch(EpochData& data) {
  double sum = 0;
  int steps = 0;
  for (const auto& [x1, x2] : data.batches()) {
    sum += step(*opt_, loss_(f_->forward(x1), f_->forward(x2)));
    ++steps;
    ++step_;
  }
  return {sum / steps, std::nullopt, std::nullopt};
}

torch::Tensor JointMethod::embed(const std::string&, const torch::Tensor& x) { return f_->forward(x); }

ViewPair JointMethod::mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) {
  return {f_->forward(v1), f_->forward(v2)};
}

torch::nn::Module& JointMethod::module(const std::string& name) {
  if (name == "f") return *f_;
  no_module(name);
}

// ---- Online/target pairs ---------------------------------------------------------

MomentumMethod::MomentumMethod(const MethodEnv& env, PairLoss loss)
    : MethodBase(env), loss_(std::move(loss)) {
  f_ = make_encoder();
  auto params = f_->parameters();
  if (cfg_.predictor) {
    pred_ = make_predictor();
    for (auto& p : pred_->parameters()) params.push_back(p);
  }
  // The target starts as a copy of the online encoder and is never stepped.
  target_ = make_encoder();
  copy_state(*f_, *target_);
  for (auto& p : target_->parameters()) p.set_requires_grad(false);
  opt_ = &add_optimizer(params);
}

double MomentumMethod::momentum_at(std::int64_t k) const {
  if (!cfg_.ema_cosine || steps_total_ <= 0) return cfg_.ema_momentum;
  const double frac = static_cast<double>(k) / static_cast<double>(steps_total_);
  return 1.0 - (1.0 - cfg_.ema_momentum) * (std::cos(M_PI * frac) + 1.0) / 2.0;
}

EpochLosses MomentumMethod::train_epoch(EpochData& data) {
  double sum = 0;
  int steps = 0;
  for (const auto& [x1, x2] : data.batches()) {
    const auto z1 = f_->forward(x1), z2 = f_->forward(x2);
    const auto p1 = cfg_.predictor ? pred_->forward(z1) : z1;
    const auto p2 = cfg_.predictor ? pred_->forward(z2) : z2;
    torch::Tensor t1, t2;
    {
      torch::NoGradGuard no_grad;
      t1 = target_->forward(x1);
      t2 = target_->forward(x2);
    }
    sum += step(*opt_, loss_(p1, t2) + loss_(p2, t1));
    ema_update(*f_, *target_, momentum_at(step_));
    ++steps;
    ++step_;
  }
  return {sum / steps, std::nullopt, std::nullopt};
}

torch::Tensor MomentumMethod::embed(const std::string&, const torch::Tensor& x) { return f_->forward(x); }

ViewPair MomentumMethod::mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) {
  return {f_->forward(v1), target_->forward(v2)};
}

torch::nn::Module& MomentumMethod::module(const std::string& name) {
  if (name == "f") return *f_;
  if (name == "target") return *target_;
  if (name == "predictor" && cfg_.predictor) return *pred_;
  no_module(name);
}

}  // namespace ssrl
