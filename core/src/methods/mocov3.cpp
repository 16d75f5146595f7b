// MoCo-v3: online + predictor vs momentum encoder, InfoNCE over the batch x 2t.
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo mocov3_info() {
  MethodInfo info;
  info.name = "mocov3";
  info.display = "MoCo-v3";
  info.paradigm = Paradigm::SDMI;
  info.summary = "online + predictor vs EMA momentum encoder (0.996); symmetric InfoNCE scaled by 2t";
  info.uses = {"temperature", "predictor", "predictor_hidden", "ema_momentum", "ema_cosine"};
  info.encoders = {"f"};
  info.mi_branches = "online f(view 1) vs momentum encoder(view 2)";
  // vturrisi/solo-learn solo/methods/mocov3.py _build_mlp, as
  // facebookresearch/moco-v3 moco/builder.py: every Linear without bias, the
  // projector ends in BN without affine, the predictor in a plain Linear.
  info.head = {false, true, false, false, false, "raw prediction and key; InfoNCE L2-normalises",
               "vturrisi/solo-learn solo/methods/mocov3.py"};
  info.defaults = {{"temperature", 0.1}, {"predictor", true}, {"ema_momentum", 0.996}, {"ema_cosine", true}, {"proj_out_norm", "bn"}};
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {

std::unique_ptr<Method> make_mocov3(const MethodEnv& env) {
  const double t = env.cfg.temperature;
  return std::make_unique<MomentumMethod>(env, [t](const torch::Tensor& q, const torch::Tensor& k) {
    return losses::mocov3(q, k, t);
  });
}

}  // namespace ssrl
#endif
