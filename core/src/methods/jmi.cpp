// JMI prototype (docs/science.md §2): one encoder f, both views, one joint step.
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo jmi_info() {
  MethodInfo info;
  info.name = "jmi";
  info.display = "JMI prototype";
  info.paradigm = Paradigm::JMI;
  info.summary = "one shared encoder, cos-DV loss over both view orders, one joint step per batch";
  info.uses = {"temperature", "marginal"};
  info.encoders = {"f"};
  info.mi_branches = "f(view 1) vs f(view 2)";
  // Workbench's own prototype: the SDMI prototype's head, so the two
  // paradigms differ only in their schedule.
  info.head = {false, true, false, false, true, "raw projection; cos-DV L2-normalises",
               "workbench choice, as the SDMI prototype"};
  info.defaults = {{"temperature", 0.1}, {"marginal", true}, {"proj_out_norm", "bn"}};
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {

std::unique_ptr<Method> make_jmi(const MethodEnv& env) {
  const double t = env.cfg.temperature;
  const bool marginal = env.cfg.marginal;
  // 0.5 [L(f(x1), f(x2)) + L(f(x2), f(x1))]: the two orders are transposed
  // similarity matrices with the same diagonal and the same off-diagonal
  // set, hence the same loss and gradient; it is computed once.
  return std::make_unique<JointMethod>(env, [t, marginal](const torch::Tensor& z1, const torch::Tensor& z2) {
    return losses::cos_dv(z1, z2, t, marginal);
  });
}

}  // namespace ssrl
#endif
