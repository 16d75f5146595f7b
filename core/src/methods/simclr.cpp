// SimCLR: NT-Xent over the 2N views of a batch.
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
namespace ssrl {

MethodInfo simclr_info() {
  MethodInfo info;
  info.name = "simclr";
  info.display = "SimCLR";
  info.paradigm = Paradigm::JMI;
  info.summary = "NT-Xent over the 2N views of a batch, temperature t";
  info.uses = {"temperature"};
  info.encoders = {"f"};
  info.mi_branches = "f(view 1) vs f(view 2)";
  // vturrisi/solo-learn solo/methods/simclr.py: Linear ReLU Linear, no
  // batch norm at all.
  info.head = {true, false, true, true, true, "raw projection; NT-Xent L2-normalises",
               "vturrisi/solo-learn solo/methods/simclr.py"};
  info.defaults = {{"temperature", 0.1}, {"proj_out_norm", "none"}};
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {

std::unique_ptr<Method> make_simclr(const MethodEnv& env) {
  const double t = env.cfg.temperature;
  return std::make_unique<JointMethod>(env, [t](const torch::Tensor& z1, const torch::Tensor& z2) {
    return losses::nt_xent(z1, z2, t);
  });
}

}  // namespace ssrl
#endif
