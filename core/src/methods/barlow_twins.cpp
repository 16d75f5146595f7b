// Barlow Twins: cross-correlation of batch-standardised features.
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo barlow_twins_info() {
  MethodInfo info;
  info.name = "barlow-twins";
  info.display = "Barlow Twins";
  info.paradigm = Paradigm::JMI;
  info.summary = "sum (1 - C_ii)^2 + lambda sum_{i!=j} C_ij^2 on the batch cross-correlation";
  info.uses = {"bt_lambda"};
  info.encoders = {"f"};
  info.mi_branches = "f(view 1) vs f(view 2)";
  // vturrisi/solo-learn solo/methods/barlow_twins.py: Linear (bias) BN
  // ReLU ..., last Linear (bias), no output normalisation; the loss
  // standardises per feature itself.
  info.head = {true, true, true, true, true, "raw projection (not L2-normalised)",
               "vturrisi/solo-learn solo/methods/barlow_twins.py"};
  info.defaults = {{"bt_lambda", 5e-3}, {"proj_out_norm", "none"}};
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {

std::unique_ptr<Method> make_barlow_twins(const MethodEnv& env) {
  const double lambda = env.cfg.bt_lambda;
  return std::make_unique<JointMethod>(env, [lambda](const torch::Tensor& z1, const torch::Tensor& z2) {
    return losses::barlow_twins(z1, z2, lambda);
  });
}

}  // namespace ssrl
#endif
