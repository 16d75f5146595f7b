// BYOL: online encoder + predictor against an EMA target, 2 - 2 cos.
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo byol_info() {
  MethodInfo info;
  info.name = "byol";
  info.display = "BYOL";
  info.paradigm = Paradigm::SDMI;
  info.summary = "online + predictor vs EMA target (0.996, cosine to 1); 2 - 2cos over both view orders";
  info.uses = {"predictor", "predictor_hidden", "ema_momentum", "ema_cosine"};
  info.encoders = {"f"};
  info.mi_branches = "online f(view 1) vs EMA target(view 2)";
  // vturrisi/solo-learn solo/methods/byol.py: Linear (bias) BN ReLU Linear
  // (bias), no output normalisation; predictor the same shape.
  info.head = {true, true, true, true, true, "raw projection / prediction; 2 - 2cos L2-normalises",
               "vturrisi/solo-learn solo/methods/byol.py"};
  info.defaults = {{"predictor", true}, {"ema_momentum", 0.996}, {"ema_cosine", true}, {"proj_out_norm", "none"}};
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {

std::unique_ptr<Method> make_byol(const MethodEnv& env) {
  return std::make_unique<MomentumMethod>(env, [](const torch::Tensor& p, const torch::Tensor& z) {
    return losses::byol(p, z);
  });
}

}  // namespace ssrl
#endif
