// `export weights`: one encoder of a stored run, from its checkpoint, as a
// state_dict for PyTorch.
#include <algorithm>

#include "methods/method.hpp"
#include "models/weights.hpp"
#include "ssrl/datasets.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/weights.hpp"
#include "training/checkpoint.hpp"

namespace ssrl {

WeightsExport export_weights(const RunConfig& stored, const std::string& checkpoint, const std::string& encoder,
                             const std::string& part, const std::string& out) {
  if (part != "all" && part != "backbone" && part != "projector")
    throw ConfigError("part", "unknown part '" + part + "' (accepted: all, backbone, projector)");
  const bool images = is_image_data(stored.dataset);
  if (!images && part != "all")
    throw ConfigError("part", "the Gaussian experiment's MLP encoder has no backbone/projector split; use --part all");
  RunConfig cfg = stored;
  cfg.init_from.clear();  // the checkpoint holds the weights; the starting file may be gone
  const torch::Device cpu(torch::kCPU);
  auto gen = at::detail::createCPUGenerator(0);
  const ImageEncoderOptions o = image_encoder_options(cfg, images ? find_dataset(cfg.dataset).channels : 1);
  std::function<EncoderPtr()> factory;
  if (images) factory = [o] { return make_image_encoder(o); };
  else factory = [&cfg] { return std::make_shared<MlpEncoder>(2, cfg.hidden_dim, 3); };
  MethodEnv env{cfg, cpu, gen, factory, images ? cfg.proj_dim : 3, 1};
  auto method = make_method(env);
  load_snapshot(checkpoint, *method, gen, cpu);
  const auto names = method->encoder_names();
  if (std::find(names.begin(), names.end(), encoder) == names.end()) {
    std::string accepted;
    for (const auto& n : names) accepted += (accepted.empty() ? "" : ", ") + n;
    throw ConfigError("encoder", "method " + cfg.method + " has no encoder '" + encoder + "' (accepted: " + accepted + ")");
  }
  torch::nn::Module* m = &method->module(encoder);
  if (part != "all") {
    m = nullptr;
    for (const auto& child : method->module(encoder).named_children())
      if (child.key() == part) m = child.value().get();
    if (m == nullptr) throw ConfigError("part", "encoder '" + encoder + "' has no " + part);
  }
  WeightsExport result;
  result.python = images ? python_constructor(o, dynamic_cast<const EncoderNet&>(method->module(encoder)), part)
                         : "MlpEncoder(in_dim=2, hidden=" + std::to_string(cfg.hidden_dim) + ", out_dim=3)";
  result.tensors = save_state_dict(*m, out);
  for (const auto& p : m->parameters()) result.values += p.numel();
  for (const auto& b : m->buffers()) result.values += b.numel();
  return result;
}

}  // namespace ssrl
