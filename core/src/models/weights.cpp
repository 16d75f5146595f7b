#include "models/weights.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>

#include "ssrl/errors.hpp"
#include "ssrl/output_file.hpp"

namespace ssrl {
namespace {

namespace fs = std::filesystem;

std::map<std::string, torch::Tensor> state_of(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  // A batch norm without affine parameters may hold undefined placeholders.
  for (const auto& p : module.named_parameters(/*recurse=*/true))
    if (p.value().defined()) out[p.key()] = p.value();
  for (const auto& b : module.named_buffers(/*recurse=*/true))
    if (b.value().defined()) out[b.key()] = b.value();
  return out;
}

std::string list(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < 4; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 4) s += " and " + std::to_string(names.size() - 4) + " more";
  return s;
}

// Copies `file` into `module`'s state; the message names what does not fit.
void assign(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& file, const std::string& path,
            const std::string& what) {
  auto state = state_of(module);
  std::vector<std::string> missing, unexpected, misshapen;
  for (const auto& [k, t] : state) {
    const auto it = file.find(k);
    if (it == file.end()) missing.push_back(k);
    else if (it->second.sizes() != t.sizes()) {
      std::ostringstream s;
      s << k << " (file " << it->second.sizes() << ", " << what << " " << t.sizes() << ")";
      misshapen.push_back(s.str());
    }
  }
  for (const auto& [k, t] : file)
    if (!state.count(k)) unexpected.push_back(k);
  if (!missing.empty() || !unexpected.empty() || !misshapen.empty()) {
    std::string why;
    if (!missing.empty()) why += " missing: " + list(missing) + ";";
    if (!unexpected.empty()) why += " not in the " + what + ": " + list(unexpected) + ";";
    if (!misshapen.empty()) why += " other shape: " + list(misshapen) + ";";
    why.pop_back();
    throw DataError("weights '" + path + "' do not fit the " + what + " of this run:" + why);
  }
  torch::NoGradGuard no_grad;
  for (auto& [k, t] : state) t.copy_(file.at(k).to(t.device(), t.scalar_type()));
}

}  // namespace

std::string python_constructor(const ImageEncoderOptions& o, const EncoderNet& encoder, const std::string& part) {
  if (part == "backbone") return "make_backbone(\"" + o.backbone + "\", in_channels=" + std::to_string(o.in_channels) + ")";
  std::map<std::string, torch::Tensor> head;
  for (const auto& child : encoder.named_children())
    if (child.key() == "projector") head = state_of(*child.value());
  const std::string last = std::to_string(o.proj_layers - 1);
  auto has = [&](const std::string& key) { return head.count(key) > 0; };
  const std::string out_norm = !has("bn" + last + ".running_mean") ? "none" : has("bn" + last + ".weight") ? "bn-affine" : "bn";
  auto py = [](bool b) { return b ? "True" : "False"; };
  std::ostringstream layout;
  layout << ", hidden_bias=" << py(has("fc0.bias")) << ", hidden_bn=" << py(has("bn0.running_mean"))
         << ", out_bias=" << py(has("fc" + last + ".bias")) << ", out_norm=\"" << out_norm << "\"";
  std::ostringstream s;
  if (part == "projector")
    s << "Projector(in_dim=" << encoder.feature_dim() << ", hidden=" << o.proj_hidden << ", out_dim=" << o.proj_dim
      << ", layers=" << o.proj_layers << layout.str() << ")";
  else
    s << "ImageEncoder(\"" << o.backbone << "\", in_channels=" << o.in_channels << ", proj_hidden=" << o.proj_hidden
      << ", proj_dim=" << o.proj_dim << ", proj_layers=" << o.proj_layers << layout.str() << ")";
  return s.str();
}

int save_state_dict(const torch::nn::Module& module, const std::string& path) {
  c10::Dict<std::string, at::Tensor> dict;
  const auto state = state_of(module);
  for (const auto& [k, t] : state) dict.insert(k, t.detach().to(torch::kCPU).contiguous().clone());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_output_file(path, std::string_view(bytes.data(), bytes.size()));  // the one atomic writer
  return static_cast<int>(state.size());
}

void load_encoder_weights(EncoderNet& encoder, const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw DataError("cannot read weights '" + path + "'");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::map<std::string, torch::Tensor> file;
  try {
    const c10::IValue v = torch::pickle_load(bytes);
    if (!v.isGenericDict()) throw DataError("weights '" + path + "' hold no {name: tensor} dictionary (a state_dict)");
    for (const auto& e : v.toGenericDict()) {
      if (!e.key().isString() || !e.value().isTensor())
        throw DataError("weights '" + path + "' hold something other than name: tensor entries");
      file[e.key().toStringRef()] = e.value().toTensor();
    }
  } catch (const c10::Error& e) {
    // LibTorch's unpickler turns a collections.OrderedDict into None.
    if (std::string(e.what_without_backtrace()).find("got None") != std::string::npos)
      throw DataError("weights '" + path + "' hold an OrderedDict, which LibTorch cannot read: save a plain dict, "
                      "torch.save(dict(model.state_dict()), path)");
    throw DataError("weights '" + path + "' cannot be read as a state_dict: " + e.what_without_backtrace());
  }
  // A backbone's state alone has no "backbone." prefix.
  bool prefixed = false;
  for (const auto& [k, t] : file) prefixed = prefixed || k.rfind("backbone.", 0) == 0;
  for (const auto& child : encoder.named_children())
    if (child.key() == "backbone" && !prefixed) return assign(*child.value(), file, path, "backbone");
  assign(encoder, file, path, "encoder");
}

}  // namespace ssrl
