#include "methods/method.hpp"

#include <ATen/autocast_mode.h>

#include <algorithm>
#include <cmath>

#include "models/weights.hpp"
#include "training/distributed.hpp"

namespace ssrl {

MethodBase::MethodBase(const MethodEnv& env)
    : cfg_(env.cfg),
      device_(env.device),
      gen_(env.gen),
      make_encoder_(env.make_encoder),
      embed_dim_(env.embed_dim),
      steps_total_(static_cast<std::int64_t>(env.cfg.epochs) * env.steps_per_epoch),
      phase_(env.phase) {}

EncoderPtr MethodBase::make_encoder() {
  EncoderPtr e = make_encoder_();
  init_from_generator(*e, gen_);  // also with init_from: the run's later draws stay the same
  if (!cfg_.init_from.empty()) load_encoder_weights(*e, cfg_.init_from);
  e->to(device_);
  if (cfg_.channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : e->parameters())
      if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
  return track(e);
}

Predictor MethodBase::make_predictor() {
  const HeadInfo& h = find_method(cfg_.method).head;
  Predictor p(embed_dim_, cfg_.predictor_hidden, h.pred_hidden_bias, h.pred_out_bias);
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

double MethodBase::step(torch::optim::Optimizer& opt, const torch::Tensor& loss) { return step(opt, loss, {}); }

double MethodBase::step(torch::optim::Optimizer& opt, const torch::Tensor& loss, const std::vector<torch::Tensor>& frozen) {
  const AutocastOff full_precision;  // backward and update outside autocast
  opt.zero_grad();
  const bool scaled = current_precision().loss_scaling;
  // float16: scale the loss so small gradients survive, unscale, and skip
  // the update when anything overflowed (halve the scale; double it after
  // 2000 good steps), as torch.cuda.amp.GradScaler does.
  (scaled ? loss * loss_scale_ : loss).backward();
  for (auto p : frozen) p.mutable_grad() = torch::Tensor();
  dist::average_gradients(opt);
  if (!scaled) {
    opt.step();
    at::autocast::clear_cache();  // the next forward casts the updated weights
    return loss.item<double>();
  }
  std::vector<torch::Tensor> grads;
  for (auto& group : opt.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) grads.push_back(p.grad());
  torch::_foreach_mul_(grads, 1.0 / loss_scale_);
  // One read-back carries the loss and the overflow flags.
  std::vector<torch::Tensor> finite{loss.detach().to(torch::kDouble).reshape({1})};
  for (const auto& g : grads) finite.push_back(torch::isfinite(g).all().to(torch::kDouble).reshape({1}));
  const auto host = torch::cat(finite).cpu();
  const double* v = host.data_ptr<double>();
  const bool ok = std::all_of(v + 1, v + host.numel(), [](double f) { return f > 0; });
  if (ok) {
    opt.step();
    if (++steps_since_overflow_ >= 2000) loss_scale_ *= 2, steps_since_overflow_ = 0;
  } else {
    loss_scale_ /= 2, steps_since_overflow_ = 0;
  }
  at::autocast::clear_cache();
  return v[0];
}

void MethodBase::no_module(const std::string& name) {
  throw std::out_of_range("this method has no network named '" + name + "'");
}

EncoderNet& MethodBase::encoder_for(const std::string& name) {
  auto* e = dynamic_cast<EncoderNet*>(&module(name));
  if (e == nullptr) no_module(name);
  return *e;
}

torch::Tensor MethodBase::features(const std::string& encoder, const torch::Tensor& x) {
  return encoder_for(encoder).features(x);
}

torch::Tensor MethodBase::forward_all(EncoderNet& e, const torch::Tensor& x) {
  constexpr std::int64_t chunk = 512;
  if (torch::GradMode::is_enabled() || x.size(0) <= chunk) return e.forward(x);
  std::vector<torch::Tensor> parts;
  for (std::int64_t i = 0; i < x.size(0); i += chunk) parts.push_back(e.forward(x.narrow(0, i, std::min(chunk, x.size(0) - i))));
  return torch::cat(parts);
}

void MethodBase::save(torch::serialize::OutputArchive& archive) {
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    torch::serialize::OutputArchive sub;
    modules_[i]->save(sub);
    archive.write("module" + std::to_string(i), sub);
  }
  for (std::size_t i = 0; i < optims_.size(); ++i) {
    torch::serialize::OutputArchive sub;
    optims_[i]->save(sub);
    archive.write("optimizer" + std::to_string(i), sub);
  }
  archive.write("step", torch::tensor(step_, torch::kLong));
  save_extra(archive);
}

void MethodBase::load(torch::serialize::InputArchive& archive) {
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    torch::serialize::InputArchive sub;
    archive.read("module" + std::to_string(i), sub);
    modules_[i]->load(sub);
    modules_[i]->to(device_);
  }
  for (std::size_t i = 0; i < optims_.size(); ++i) {
    torch::serialize::InputArchive sub;
    archive.read("optimizer" + std::to_string(i), sub);
    optims_[i]->load(sub);
  }
  torch::Tensor step;
  archive.read("step", step);
  step_ = step.item<std::int64_t>();
  load_extra(archive);
}

// ---- JMI family -------------------------------------------------------------

JointMethod::JointMethod(const MethodEnv& env, PairLoss loss) : MethodBase(env), loss_(std::move(loss)) {
  f_ = make_encoder();
  opt_ = &add_optimizer(f_->parameters());
}

EpochLosses JointMethod::train_epoch(EpochData& data) {
  double sum = 0;
  const int steps = for_each_batch(data, [&](const torch::Tensor& x1, const torch::Tensor& x2) {
    sum += step(*opt_, loss_(f_->project(x1), f_->project(x2)));
    ++step_;
  });
  return {sum / std::max(1, steps), std::nullopt, std::nullopt};
}

torch::Tensor JointMethod::embed(const std::string&, const torch::Tensor& x) { return forward_all(*f_, x); }

ViewPair JointMethod::mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) {
  return {forward_all(*f_, v1), forward_all(*f_, v2)};
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

double ema_momentum_at(const RunConfig& cfg, std::int64_t k, std::int64_t total) {
  if (!cfg.ema_cosine || total <= 0) return cfg.ema_momentum;
  const double frac = static_cast<double>(k) / static_cast<double>(total);
  return 1.0 - (1.0 - cfg.ema_momentum) * (std::cos(M_PI * frac) + 1.0) / 2.0;
}

double MomentumMethod::momentum_at(std::int64_t k) const { return ema_momentum_at(cfg_, k, steps_total_); }

EpochLosses MomentumMethod::train_epoch(EpochData& data) {
  double sum = 0;
  const int steps = for_each_batch(data, [&](const torch::Tensor& x1, const torch::Tensor& x2) {
    const auto z1 = f_->project(x1), z2 = f_->project(x2);
    const auto p1 = cfg_.predictor ? pred_->forward(z1) : z1;
    const auto p2 = cfg_.predictor ? pred_->forward(z2) : z2;
    torch::Tensor t1, t2;
    {
      torch::NoGradGuard no_grad;
      t1 = target_->project(x1);
      t2 = target_->project(x2);
    }
    sum += step(*opt_, loss_(p1, t2) + loss_(p2, t1));
    ema_update(*f_, *target_, momentum_at(step_));
    ++step_;
  });
  return {sum / std::max(1, steps), std::nullopt, std::nullopt};
}

torch::Tensor MomentumMethod::embed(const std::string&, const torch::Tensor& x) { return forward_all(*f_, x); }

ViewPair MomentumMethod::mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) {
  return {forward_all(*f_, v1), forward_all(*target_, v2)};
}

torch::nn::Module& MomentumMethod::module(const std::string& name) {
  if (name == "f") return *f_;
  if (name == "target") return *target_;
  if (name == "predictor" && cfg_.predictor) return *pred_;
  no_module(name);
}

}  // namespace ssrl
