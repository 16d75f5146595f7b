// Trained encoders for PyTorch users: `export weights` files load into the
// plain PyTorch definitions of resources/python/ssrl_encoders.py and give the
// workbench's embeddings (checked with Debian's python3-torch, an independent
// implementation); --init-from reads them, and PyTorch's own state_dicts,
// back. Gaussian runs resume from their checkpoint.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "methods/method.hpp"
#include "models/weights.hpp"
#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/trainer.hpp"
#include "ssrl/weights.hpp"
#include "support/temp_dir.hpp"
#include "training/checkpoint.hpp"

namespace ssrl {
namespace {

const std::string kEncoders = std::string(WB_TEST_DATA) + "/../resources/python";
const std::string kCheck = std::string(WB_TEST_DATA) + "/python/check_weights.py";

// Debian's interpreter first: python3-torch installs for it, and a python3
// earlier on PATH (pyenv, a virtualenv) may not see it.
const std::string& python_exe() {
  static const std::string exe = [] {
    for (const char* candidate : {"/usr/bin/python3", "python3"})
      if (std::system((std::string(candidate) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0) return std::string(candidate);
    return std::string();
  }();
  return exe;
}

bool python_has_torch() { return !python_exe().empty(); }

#define SKIP_WITHOUT_PYTORCH()                                                                                   \
  if (!python_has_torch())                                                                                       \
  GTEST_SKIP() << "neither /usr/bin/python3 nor python3 imports torch (install Debian's python3-torch; " \
                  "packaging/debian/install-deps.sh does): the PyTorch side of the round trip is not checked"

void save_tensor(const torch::Tensor& t, const std::string& path) {
  const auto bytes = torch::pickle_save(t.contiguous());
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

torch::Tensor load_tensor(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toTensor();
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int python(const std::vector<std::string>& args) {
  std::string cmd = python_exe() + " " + quoted(kCheck);
  for (const auto& a : args) cmd += " " + quoted(a);
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class Weights : public wb_test::TempDirTest {
 protected:
  RunConfig gaussian(const std::string& method, int epochs) {
    ConfigBuilder b(method);
    b.set("epochs", std::to_string(epochs));
    b.set("points_per_cluster", "40");
    b.set("batch_size", "50");
    return b.build();
  }
  RunOutcome train_to(const RunConfig& cfg, const std::string& folder) {
    TrainObserver quiet;
    TrainControl control;
    control.checkpoint_dir = path(folder);
    return train(cfg, quiet, control);
  }
};

// The embeddings the workbench gives for `x`, from the run's checkpoint.
torch::Tensor workbench_embedding(const RunConfig& cfg, const std::string& checkpoint, const std::string& encoder,
                                  const torch::Tensor& x) {
  auto gen = at::detail::createCPUGenerator(0);
  MethodEnv env{cfg, torch::Device(torch::kCPU), gen,
                [&cfg] { return std::make_shared<MlpEncoder>(2, cfg.hidden_dim, 3); }, 3, 1};
  auto method = make_method(env);
  load_snapshot(checkpoint, *method, gen, torch::kCPU);
  method->set_training(false);
  torch::NoGradGuard no_grad;
  return method->embed(encoder, x);
}

TEST_F(Weights, ExportedGaussianEncodersGiveTheWorkbenchEmbeddingsInPyTorch) {
  SKIP_WITHOUT_PYTORCH();
  const RunConfig cfg = gaussian("sdmi", 4);
  const auto out = train_to(cfg, "ck");
  ASSERT_EQ(out.status, RunStatus::Finished) << out.message;
  const torch::Tensor x = torch::randn({32, 2}, at::detail::createCPUGenerator(7)).mul(0.8);
  save_tensor(x, path("x.pt"));
  for (const std::string enc : {"f", "g"}) {
    const auto w = export_weights(cfg, out.checkpoint, enc, "all", path(enc + ".pt"));
    EXPECT_EQ(w.python, "MlpEncoder(in_dim=2, hidden=64, out_dim=3)");
    EXPECT_EQ(w.tensors, 14);  // 2 x Linear (weight, bias) + 2 x BN (weight, bias, mean, var, count)
    save_tensor(workbench_embedding(cfg, out.checkpoint, enc, x), path(enc + "-z.pt"));
    EXPECT_EQ(python({"compare", kEncoders, w.python, "all", path(enc + ".pt"), path("x.pt"), path(enc + "-z.pt")}), 0)
        << "encoder " << enc;
  }
  // f and g of SDMI are trained apart: the two files differ.
  EXPECT_NE(python({"compare", kEncoders, "MlpEncoder(in_dim=2, hidden=64, out_dim=3)", "all", path("f.pt"), path("x.pt"),
                    path("g-z.pt")}),
            0);
}

TEST_F(Weights, ImageEncodersBackbonesAndProjectorsLoadInPyTorch) {
  SKIP_WITHOUT_PYTORCH();
  struct Case {
    std::string backbone;
    int channels, layers;
  };
  const Case cases[] = {{"small-cnn", 1, 2}, {"resnet18", 3, 3}};
  for (const auto& c : cases) {
    ImageEncoderOptions o;
    o.backbone = c.backbone;
    o.in_channels = c.channels;
    o.proj_hidden = 48;
    o.proj_dim = 16;
    o.proj_layers = c.layers;
    auto gen = at::detail::createCPUGenerator(3);
    auto enc = make_image_encoder(o);
    init_from_generator(*enc, gen);
    const torch::Tensor x = torch::randn({6, c.channels, 16, 16}, gen);
    {
      // Batch-norm statistics other than (0, 1), as after training.
      torch::NoGradGuard no_grad;
      enc->train();
      for (int i = 0; i < 3; ++i) enc->forward(x * 1.5 + 0.3);
    }
    enc->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor z = enc->forward(x), h = enc->features(x);
    save_tensor(x, path("x.pt"));
    save_tensor(z, path("z.pt"));
    save_tensor(h, path("h.pt"));
    EXPECT_EQ(save_state_dict(*enc, path("all.pt")), static_cast<int>(enc->parameters().size() + enc->buffers().size()));
    EXPECT_EQ(python({"compare", kEncoders, python_constructor(o, *enc, "all"), "all", path("all.pt"), path("x.pt"), path("z.pt"),
                      path("h.pt")}),
              0)
        << c.backbone;
    torch::nn::Module* backbone = nullptr;
    torch::nn::Module* projector = nullptr;
    for (const auto& child : enc->named_children())
      (child.key() == "backbone" ? backbone : projector) = child.value().get();
    ASSERT_TRUE(backbone != nullptr && projector != nullptr);
    save_state_dict(*backbone, path("backbone.pt"));
    save_state_dict(*projector, path("projector.pt"));
    EXPECT_EQ(python({"compare", kEncoders, python_constructor(o, *enc, "backbone"), "backbone", path("backbone.pt"), path("x.pt"),
                      path("h.pt")}),
              0)
        << c.backbone;
    EXPECT_EQ(python({"compare", kEncoders, python_constructor(o, *enc, "projector"), "projector", path("projector.pt"), path("h.pt"),
                      path("z.pt")}),
              0)
        << c.backbone;
    // A backbone's file starts an encoder's backbone (--init-from).
    auto fresh = make_image_encoder(o);
    load_encoder_weights(*fresh, path("backbone.pt"));
    fresh->eval();
    EXPECT_TRUE(torch::allclose(fresh->features(x), h, 0, 0)) << c.backbone;
  }
}

// A state_dict saved by PyTorch (torch.save(dict(model.state_dict()))) starts
// a workbench encoder that gives PyTorch's output; the OrderedDict itself is
// refused with the way out.
TEST_F(Weights, PyTorchStateDictsLoadIntoTheWorkbench) {
  SKIP_WITHOUT_PYTORCH();
  const torch::Tensor x = torch::randn({20, 2}, at::detail::createCPUGenerator(5));
  save_tensor(x, path("x.pt"));
  ASSERT_EQ(python({"save", kEncoders, "MlpEncoder(in_dim=2, hidden=16, out_dim=3)", "11", path("py.pt"), path("x.pt"),
                    path("py-z.pt")}),
            0);
  MlpEncoder enc(2, 16, 3);
  load_encoder_weights(enc, path("py.pt"));
  enc.eval();
  torch::NoGradGuard no_grad;
  const auto diff = (enc.forward(x) - load_tensor(path("py-z.pt"))).abs().max().item<double>();
  EXPECT_LE(diff, 1e-5);
  try {
    load_encoder_weights(enc, path("py.pt.ordered"));
    ADD_FAILURE() << "an OrderedDict was read";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("dict(model.state_dict())"), std::string::npos) << e.what();
  }
}

// run --init-from: the encoders start from the file. With a vanishing
// learning rate the trained weights are still the file's.
TEST_F(Weights, InitFromStartsTheEncodersFromTheFile) {
  const RunConfig a = gaussian("jmi", 3);
  const auto ra = train_to(a, "a");
  ASSERT_EQ(ra.status, RunStatus::Finished) << ra.message;
  export_weights(a, ra.checkpoint, "f", "all", path("a.pt"));
  RunConfig b = gaussian("sdmi", 1);
  b.seed = 9;
  b.lr = 1e-12;
  b.init_from = path("a.pt");
  const auto rb = train_to(b, "b");
  ASSERT_EQ(rb.status, RunStatus::Finished) << rb.message;
  RunConfig c = b;
  c.init_from.clear();
  const auto rc = train_to(c, "c");
  ASSERT_EQ(rc.status, RunStatus::Finished) << rc.message;
  auto params = [&](const RunConfig& cfg, const std::string& ck, const std::string& enc) {
    MlpEncoder e(2, cfg.hidden_dim, 3);
    export_weights(cfg, ck, enc, "all", path("tmp.pt"));
    load_encoder_weights(e, path("tmp.pt"));
    return torch::cat({e.fc1->weight.flatten(), e.fc1->bias, e.fc2->weight.flatten(), e.fc2->bias, e.bn1->weight, e.bn2->weight});
  };
  const auto pa = params(a, ra.checkpoint, "f");
  for (const std::string enc : {"f", "g"}) {
    EXPECT_LE((params(b, rb.checkpoint, enc) - pa).abs().max().item<double>(), 1e-6) << enc;
    EXPECT_GT((params(c, rc.checkpoint, enc) - pa).abs().max().item<double>(), 1e-2) << enc;  // without: random
  }
  // Weights of another architecture are refused before the run starts, by name.
  RunConfig wide = b;
  wide.hidden_dim = 32;
  try {
    train_to(wide, "w");
    ADD_FAILURE() << "weights of hidden width 64 accepted for width 32";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("other shape: bn1.bias (file [64], encoder [32])"), std::string::npos) << e.what();
  }
}

TEST_F(Weights, ExportRefusesWhatTheRunLacks) {
  const RunConfig cfg = gaussian("jmi", 2);
  const auto r = train_to(cfg, "ck");
  ASSERT_EQ(r.status, RunStatus::Finished) << r.message;
  EXPECT_THROW(export_weights(cfg, r.checkpoint, "g", "all", path("x.pt")), ConfigError);        // JMI has f only
  EXPECT_THROW(export_weights(cfg, r.checkpoint, "f", "backbone", path("x.pt")), ConfigError);   // the MLP is one part
  EXPECT_THROW(export_weights(cfg, r.checkpoint, "f", "all", dir_.string()), Error);             // a folder (the atomic writer refuses it)
  EXPECT_FALSE(std::filesystem::exists(path("x.pt")));
}

// A Gaussian run stopped after its second epoch and resumed from its
// checkpoint ends where the run that was never stopped ends.
TEST_F(Weights, ResumedGaussianRunMatchesAnUninterruptedOne) {
  const RunConfig cfg = gaussian("sdmi", 4);
  struct Collect : TrainObserver {
    std::vector<EpochRecord> epochs;
    StopFlag* stop_after_2 = nullptr;
    void on_epoch(const EpochRecord& r) override {
      epochs.push_back(r);
      if (stop_after_2 != nullptr && r.epoch == 2) stop_after_2->requested = true;
    }
  };
  Collect whole;
  TrainControl c1;
  c1.checkpoint_dir = path("ck1");
  const auto full = train(cfg, whole, c1);
  ASSERT_EQ(full.status, RunStatus::Finished) << full.message;
  Collect first;
  StopFlag stop;
  first.stop_after_2 = &stop;
  TrainControl c2;
  c2.stop = &stop;
  c2.checkpoint_dir = path("ck2");
  const auto part = train(cfg, first, c2);
  ASSERT_EQ(part.status, RunStatus::Interrupted);
  ASSERT_EQ(checkpoint_epoch(part.checkpoint), 2);
  Collect rest;
  TrainControl c3;
  c3.checkpoint_dir = c2.checkpoint_dir;
  c3.resume_from = part.checkpoint;
  const auto resumed = train(cfg, rest, c3);
  ASSERT_EQ(resumed.status, RunStatus::Finished) << resumed.message;
  ASSERT_EQ(rest.epochs.size(), 2u);
  EXPECT_EQ(rest.epochs[1].loss, whole.epochs[3].loss);
  EXPECT_EQ(*rest.epochs[1].mi.cos_dv, *whole.epochs[3].mi.cos_dv);
  ASSERT_EQ(resumed.finals.size(), full.finals.size());
  EXPECT_EQ(resumed.finals[0].separation.mean, full.finals[0].separation.mean);
  // One checkpoint per Gaussian run folder: at the end (or when stopped).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(c1.checkpoint_dir), std::filesystem::directory_iterator()), 1);
}

}  // namespace
}  // namespace ssrl
