// VICReg: invariance + variance hinge + covariance penalty.
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo vicreg_info() {
  MethodInfo info;
  info.name = "vicreg";
  info.display = "VICReg";
  info.paradigm = Paradigm::JMI;
  info.summary = "invariance MSE + variance hinge + off-diagonal covariance, weights 25/25/1";
  info.uses = {"vicreg_sim", "vicreg_var", "vicreg_cov"};
  info.encoders = {"f"};
  info.mi_branches = "f(view 1) vs f(view 2)";
  // vturrisi/solo-learn solo/methods/vicreg.py: as Barlow Twins' head; the
  // variance hinge (target SD 1) needs the raw, un-normalised projection.
  info.head = {true, true, true, true, true, "raw projection (not L2-normalised)",
               "vturrisi/solo-learn solo/methods/vicreg.py"};
  info.defaults = {{"vicreg_sim", 25.0}, {"vicreg_var", 25.0}, {"vicreg_cov", 1.0}, {"proj_out_norm", "none"}};
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {

std::unique_ptr<Method> make_vicreg(const MethodEnv& env) {
  const double s = env.cfg.vicreg_sim, v = env.cfg.vicreg_var, c = env.cfg.vicreg_cov;
  return std::make_unique<JointMethod>(env, [s, v, c](const torch::Tensor& z1, const torch::Tensor& z2) {
    return losses::vicreg(z1, z2, s, v, c);
  });
}

}  // namespace ssrl
#endif
