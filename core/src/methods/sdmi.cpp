// SDMI prototype (docs/science.md §2): two encoders f and g, each with its own optimiser,
// updated in alternation against a stop-gradient copy of the other's output.
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo sdmi_info() {
  MethodInfo info;
  info.name = "sdmi";
  info.display = "SDMI prototype";
  info.paradigm = Paradigm::SDMI;
  info.summary = "two encoders f, g; E-phase steps f against sg g, M-phase steps g against sg f; cos-DV loss";
  info.uses = {"temperature", "marginal", "predictor", "predictor_hidden", "alternation"};
  info.encoders = {"f", "g"};
  info.mi_branches = "f(view 1) vs g(view 2)";
  // Workbench's own prototype: SimSiam's head (its nearest published
  // relative), output BN without affine so no learned scale can switch
  // dimensions off; the Gaussian encoder (docs/science.md §5) likewise ends in a BN.
  info.head = {false, true, false, false, true, "raw projection; cos-DV L2-normalises",
               "workbench choice, after facebookresearch/simsiam simsiam/builder.py"};
  info.defaults = {{"temperature", 0.1}, {"marginal", true}, {"predictor", false}, {"alternation", "epoch"}, {"proj_out_norm", "bn"}};
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {
namespace {

class Sdmi : public MethodBase, public PhasedMethod {
 public:
  explicit Sdmi(const MethodEnv& env) : MethodBase(env) {
    f_ = make_encoder();
    g_ = make_encoder();
    auto pf = f_->parameters(), pg = g_->parameters();
    if (cfg_.predictor) {
      qf_ = make_predictor();
      qg_ = make_predictor();
      for (auto& p : qf_->parameters()) pf.push_back(p);
      for (auto& p : qg_->parameters()) pg.push_back(p);
    }
    opt_f_ = &add_optimizer(pf);
    opt_g_ = &add_optimizer(pg);
  }

  EpochLosses train_epoch(EpochData& data) override {
    EpochLosses out;
    if (cfg_.alternation == "batch") {
      announce("E/M per batch");
      double sum_e = 0, sum_m = 0;
      const int steps = for_each_batch(data, [&](const torch::Tensor& x1, const torch::Tensor& x2) {
        sum_e += phase_step(x1, x2, /*e_phase=*/true);
        sum_m += phase_step(x1, x2, /*e_phase=*/false);
      });
      out.phase_e = sum_e / std::max(1, steps);
      out.phase_m = sum_m / std::max(1, steps);
    } else {
      out.phase_e = train_phase(data, Phase::E);
      out.phase_m = train_phase(data, Phase::M);
    }
    out.loss = 0.5 * (*out.phase_e + *out.phase_m);
    return out;
  }

  double train_phase(EpochData& data, Phase phase) override {
    announce(phase == Phase::E ? "E-phase" : "M-phase");
    double sum = 0;
    const int steps = for_each_batch(data, [&](const torch::Tensor& x1, const torch::Tensor& x2) {
      sum += phase_step(x1, x2, phase == Phase::E);
    });
    return sum / std::max(1, steps);
  }

  torch::nn::Module& module(const std::string& name) override {
    if (name == "f") return *f_;
    if (name == "g") return *g_;
    if (name == "predictor_f" && cfg_.predictor) return *qf_;
    if (name == "predictor_g" && cfg_.predictor) return *qg_;
    no_module(name);
  }

  std::vector<std::string> encoder_names() const override { return {"f", "g"}; }

  torch::Tensor embed(const std::string& encoder, const torch::Tensor& x) override {
    return forward_all(encoder == "g" ? *g_ : *f_, x);
  }

  ViewPair mi_branches(const torch::Tensor& v1, const torch::Tensor& v2) override {
    return {forward_all(*f_, v1), forward_all(*g_, v2)};
  }

 private:
  // E-phase: 0.5 [L(f(x1), sg g(x2)) + L(f(x2), sg g(x1))], step f.
  // M-phase: the mirror image, step g. The stopped branch runs without a
  // graph (train mode, so it sees the same batch statistics as in training).
  double phase_step(const torch::Tensor& x1, const torch::Tensor& x2, bool e_phase) {
    auto& online = e_phase ? *f_ : *g_;
    auto& other = e_phase ? *g_ : *f_;
    auto& head = e_phase ? qf_ : qg_;
    torch::Tensor t1, t2;
    {
      torch::NoGradGuard no_grad;
      t1 = other.project(x1);
      t2 = other.project(x2);
    }
    auto o1 = online.project(x1), o2 = online.project(x2);
    if (cfg_.predictor) o1 = head->forward(o1), o2 = head->forward(o2);
    const auto loss = 0.5 * (losses::cos_dv(o1, t2, cfg_.temperature, cfg_.marginal) +
                             losses::cos_dv(o2, t1, cfg_.temperature, cfg_.marginal));
    ++step_;
    return step(e_phase ? *opt_f_ : *opt_g_, loss);
  }

  EncoderPtr f_, g_;
  Predictor qf_{nullptr}, qg_{nullptr};
  torch::optim::SGD* opt_f_ = nullptr;
  torch::optim::SGD* opt_g_ = nullptr;
};

}  // namespace

std::unique_ptr<Method> make_sdmi(const MethodEnv& env) {
  return std::make_unique<Sdmi>(env);
}

}  // namespace ssrl
#endif
