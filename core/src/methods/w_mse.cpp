// W-MSE: Cholesky whitening of the embeddings in random sub-batches of
// w_size, then 2 - 2 cos between positives (htdt/self-supervised,
// methods/w_mse.py and methods/whitening.py).
#include "methods/method_file.hpp"

#if SSRL_METHOD_DESCRIPTION
#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"

namespace ssrl {

MethodInfo w_mse_info() {
  MethodInfo info;
  info.name = "w-mse";
  info.display = "W-MSE";
  info.paradigm = Paradigm::JMI;
  info.summary = "one encoder; each view's embeddings whitened (Cholesky) in random sub-batches of w_size, then "
                 "2 - 2 cos between positives";
  info.uses = {"w_size", "w_iter"};
  info.encoders = {"f"};
  info.mi_branches = "f(view 1) vs f(view 2)";
  // cfg.py and the README's CIFAR commands: --w_size 128 --emb 64, head 1024 wide, 2 layers.
  info.defaults = {{"w_size", 128}, {"w_iter", 1}, {"proj_dim", 64}, {"proj_hidden", 1024}, {"proj_layers", 2},
                   {"proj_out_norm", "none"}};
  // model.py get_head: Linear BN ReLU Linear, no output normalisation.
  info.head = {true, true, true, true, true, "raw projection, whitened", "htdt/self-supervised model.py"};
  info.check = [](const RunConfig& c) {
    const bool images = is_image_data(c.dataset);
    const long long dim = images ? c.proj_dim : 3;
    if (c.w_size <= dim)
      throw ConfigError("w_size", "W-MSE whitens sub-batches of w_size rows in the " + std::to_string(dim) +
                                      "-d embedding: w_size must be larger than " + std::to_string(dim) +
                                      " (got " + std::to_string(c.w_size) + "; the published code uses at least 2x)");
    const long long batch = c.batch_size > 0 ? c.batch_size
                                             : static_cast<long long>(c.clusters) * c.points_per_cluster;
    if (batch < c.w_size)
      throw ConfigError("w_size", "W-MSE needs a batch of at least w_size = " + std::to_string(c.w_size) +
                                      " rows (batch_size is " + std::to_string(batch) + ")");
  };
  return info;
}

}  // namespace ssrl
#else
#include "objectives/losses.hpp"
#include "methods/method.hpp"

namespace ssrl {

std::unique_ptr<Method> make_w_mse(const MethodEnv& env) {
  const int w_size = env.cfg.w_size, w_iter = env.cfg.w_iter;
  at::Generator* gen = &env.gen;
  return std::make_unique<JointMethod>(env, [=](const torch::Tensor& z1, const torch::Tensor& z2) {
    return losses::w_mse(z1, z2, w_size, w_iter, *gen);
  });
}

}  // namespace ssrl
#endif
