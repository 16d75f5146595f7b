#pragma once
// State dicts in the format torch.save writes: a pickled {name: tensor}
// dictionary in a zip file, with PyTorch's parameter and buffer names.
#include <torch/torch.h>

#include <string>

#include "models/encoders.hpp"

namespace ssrl {

// Parameters and buffers of `module`, on the CPU, written atomically.
// Returns the number of tensors.
int save_state_dict(const torch::nn::Module& module, const std::string& path);

// Loads a state_dict (written by save_state_dict, or in Python by
// torch.save(dict(model.state_dict())): LibTorch cannot read the
// OrderedDict a plain state_dict() is) into an encoder: the whole encoder's, or a
// backbone's alone. Every entry must be present with its shape, and no
// other; DataError naming the file and the entries otherwise.
void load_encoder_weights(EncoderNet& encoder, const std::string& path);

// The constructor call in resources/python/ssrl_encoders.py whose modules
// carry the same names and shapes as `encoder`, an image encoder built from
// `o`: part "all" (ImageEncoder), "backbone" (make_backbone) or "projector".
// The projector's layout (biases, batch norms, output norm) is read from the
// module itself, so it follows each method's head.
std::string python_constructor(const ImageEncoderOptions& o, const EncoderNet& encoder, const std::string& part);

}  // namespace ssrl
