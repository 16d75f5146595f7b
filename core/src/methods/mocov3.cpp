// MoCo-v3: online + predictor vs momentum encoder, InfoNCE over the batch x 2t.
#include "../losses.hpp"
#include "../method.hpp"

namespace ssrl {

MethodSpec mocov3_spec() {
  MethodInfo info;
  info.name = "mocov3";
  info.display = "MoCo-v3";
  info.paradigm = Paradigm::SDMI;
  info.summary = "online + predictor vs EMA momentum encoder (0.996); symmetric InfoNCE scaled by 2t";
  info.uses = {"temperature", "predictor", "predictor_hidden", "ema_momentum", "ema_cosine"};
  info.encoders = {"f"};
  info.mi_branches = "online f(view 1) vs momentum encoder(view 2)";
  info.defaults = {{"temperature", 0.1}, {"predictor", true}, {"ema_momentum", 0.996}, {"ema_cosine", true}};
  return {info, [](const MethodEnv& env) -> std::unique_ptr<Method> {
            const double t = env.cfg.temperature;
            return std::make_unique<MomentumMethod>(env, [t](const torch::Tensor& q, const torch::Tensor& k) {
              return losses::mocov3(q, k, t);
            });
          }};
}

}  // namespace ssrl
