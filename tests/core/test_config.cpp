// Config assembly and validation: every mistake names its field.
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"

namespace ssrl {
namespace {

template <class Fn>
std::string config_error(Fn&& fn, std::string* field = nullptr) {
  try {
    fn();
  } catch (const ConfigError& e) {
    if (field != nullptr) *field = e.field();
    return e.what();
  }
  return "";
}

TEST(Config, MethodNamesAreThoseUsersType) {
  const std::vector<std::string> expected = {
      "sdmi",      "jmi",       "simsiam",        "byol",           "mocov3",      "mocov2",
      "dino",      "simclr",    "barlow-twins",   "vicreg",         "swav",        "w-mse",
      "taylor-dv", "sdmi-nodv", "sdmi-nodv-pred", "simsiam-nopred", "simsiam-sdmi"};
  EXPECT_EQ(method_names(), expected);
  EXPECT_EQ(find_method("sdmi").paradigm, Paradigm::SDMI);
  EXPECT_EQ(find_method("simclr").paradigm, Paradigm::JMI);
  // The paper's reading (SPEC top): DINO and MoCo self-distil, SwAV and W-MSE are joint.
  for (const char* m : {"mocov2", "dino"}) EXPECT_EQ(find_method(m).paradigm, Paradigm::SDMI) << m;
  for (const char* m : {"swav", "w-mse"}) EXPECT_EQ(find_method(m).paradigm, Paradigm::JMI) << m;
  EXPECT_EQ(find_method("sdmi").encoders, (std::vector<std::string>{"f", "g"}));
  EXPECT_EQ(find_method("sdmi-nodv").base, "sdmi");
}

// A method's own checks run with the others; W-MSE's whitening needs
// sub-batches larger than the embedding and a batch that holds one.
TEST(Config, WmseRefusesSubBatchesTooSmallForTheEmbedding) {
  std::string field;
  auto msg = config_error([] { ConfigBuilder b("w-mse"); b.set("w_size", "3"); b.build(); }, &field);
  EXPECT_EQ(field, "w_size");
  EXPECT_NE(msg.find("larger than 3"), std::string::npos) << msg;
  msg = config_error([] { ConfigBuilder b("w-mse"); b.set("batch_size", "100"); b.build(); }, &field);
  EXPECT_NE(msg.find("at least w_size = 128"), std::string::npos) << msg;
  msg = config_error([] {
    ConfigBuilder b("w-mse", "fashion-mnist");
    b.set("proj_dim", "128");
    b.build(false);
  }, &field);
  EXPECT_NE(msg.find("larger than 128"), std::string::npos) << msg;
  EXPECT_EQ(config_error([] { ConfigBuilder b("w-mse"); b.build(); }), "");
  EXPECT_EQ(config_error([] { ConfigBuilder b("w-mse", "fashion-mnist"); b.build(false); }), "");
  // MoCo-v2's queue must hold a key; its toy defaults are its own.
  EXPECT_NE(config_error([] { ConfigBuilder b("mocov2"); b.set("queue_size", "0"); b.build(); }).find("queue"),
            std::string::npos);
  EXPECT_EQ(ConfigBuilder("mocov2").build().queue_size, 1000);
  EXPECT_EQ(ConfigBuilder("mocov2", "fashion-mnist").build(false).queue_size, 4096);
}

TEST(Config, UnknownMethodListsTheAcceptedOnes) {
  std::string field;
  const auto msg = config_error([] { ConfigBuilder b("simsam"); }, &field);
  EXPECT_EQ(field, "method");
  EXPECT_NE(msg.find("simsam"), std::string::npos);
  EXPECT_NE(msg.find("simsiam-sdmi"), std::string::npos);
}

TEST(Config, RangesAreCheckedAndNamed) {
  std::string field;
  ConfigBuilder b("jmi");
  b.set("lr", "-0.1");
  EXPECT_NE(config_error([&] { b.build(); }, &field).find("must be a number > 0"), std::string::npos);
  EXPECT_EQ(field, "lr");
  ConfigBuilder c("jmi");
  EXPECT_NE(config_error([&] { c.set("epochs", "ten"); }, &field).find("integer"), std::string::npos);
  EXPECT_EQ(field, "epochs");
  ConfigBuilder d("jmi");
  d.set("batch_size", "1");
  EXPECT_NE(config_error([&] { d.build(); }, &field).find("at least 2"), std::string::npos);
  ConfigBuilder e("jmi");
  e.set("batch_size", "99999");
  EXPECT_NE(config_error([&] { e.build(); }, &field).find("larger than the training set"), std::string::npos);
  ConfigBuilder g("jmi");
  g.set("device", "tpu");
  EXPECT_NE(config_error([&] { g.build(); }, &field).find("auto, cpu, cuda, cuda:N"), std::string::npos);
  ConfigBuilder h("jmi");
  EXPECT_NE(config_error([&] { h.set("temperature", "nan"); }, &field).find("finite"), std::string::npos);
  ConfigBuilder i("jmi");
  EXPECT_NE(config_error([&] { i.set("marginal", "maybe"); }).find("on or off"), std::string::npos);
}

TEST(Config, UnknownKeysAndKeysTheMethodDoesNotUseAreRefused) {
  std::string field;
  ConfigBuilder b("jmi");
  EXPECT_NE(config_error([&] { b.set("learning_rate", "0.1"); }, &field).find("accepted:"), std::string::npos);
  EXPECT_EQ(field, "learning_rate");
  ConfigBuilder c("byol");
  c.set("temperature", "0.2");
  const auto msg = config_error([&] { c.build(); }, &field);
  EXPECT_EQ(field, "temperature");
  EXPECT_NE(msg.find("not a setting of method byol"), std::string::npos);
  ConfigBuilder d("simclr");
  d.set("marginal", "off");
  EXPECT_EQ(config_error([&] { d.build(); }, &field).empty(), false);
  EXPECT_EQ(field, "marginal");
}

TEST(Config, VariantsFixTheirAblations) {
  const RunConfig nodv = ConfigBuilder("sdmi-nodv").build();
  EXPECT_FALSE(nodv.marginal);
  EXPECT_FALSE(nodv.predictor);
  const RunConfig pred = ConfigBuilder("sdmi-nodv-pred").build();
  EXPECT_FALSE(pred.marginal);
  EXPECT_TRUE(pred.predictor);
  const RunConfig ss = ConfigBuilder("simsiam-sdmi").build();
  EXPECT_EQ(ss.loss, "cos-dv");
  EXPECT_FALSE(ss.predictor);
  EXPECT_TRUE(ConfigBuilder("simsiam").build().predictor);
  EXPECT_FALSE(ConfigBuilder("simsiam-nopred").build().predictor);
  std::string field;
  ConfigBuilder b("sdmi-nodv");
  b.set("marginal", "on");
  EXPECT_NE(config_error([&] { b.build(); }, &field).find("use method sdmi"), std::string::npos);
  EXPECT_EQ(field, "marginal");
  ConfigBuilder ok("sdmi-nodv");
  ok.set("marginal", "off");  // the same value is fine
  EXPECT_NO_THROW(ok.build());
}

TEST(Config, MarginalOnSimSiamNeedsTheCosDvLoss) {
  ConfigBuilder b("simsiam");
  b.set("marginal", "off");
  std::string field;
  EXPECT_NE(config_error([&] { b.build(); }, &field).find("loss=cos-dv"), std::string::npos);
  ConfigBuilder c("simsiam-sdmi");
  c.set("marginal", "off");
  EXPECT_FALSE(c.build().marginal);
}

TEST(Config, StoredJsonRoundTripsThroughAConfigFile) {
  ConfigBuilder b("sdmi");
  b.set("lr", "0.25");
  b.set("alternation", "batch");
  b.set("seed", "42");
  const RunConfig cfg = b.build();
  const nlohmann::json j = to_json(cfg);
  EXPECT_EQ(j["base_method"], "sdmi");
  EXPECT_EQ(j["alternation"], "batch");
  EXPECT_FALSE(j.contains("bt_lambda"));  // only the method's own settings
  ConfigBuilder again(method_in_json(j));
  again.merge_json(j, "stored.json");
  const RunConfig back = again.build();
  EXPECT_EQ(to_json(back), j);
  EXPECT_EQ(back.seed, 42);
  EXPECT_DOUBLE_EQ(back.lr, 0.25);
}

TEST(Config, ConfigFileWithWrongTypesNamesTheField) {
  ConfigBuilder b("jmi");
  std::string field;
  EXPECT_NE(config_error([&] { b.merge_json(nlohmann::json{{"epochs", "many"}}, "x.json"); }, &field).find("integer"),
            std::string::npos);
  EXPECT_EQ(field, "epochs");
  EXPECT_NE(config_error([&] { b.merge_json(nlohmann::json{{"colour", 1}}, "x.json"); }, &field).find("x.json"),
            std::string::npos);
}

// A data-set preset (fashion-mnist/ablation) serves every method: SimCLR has
// no predictor, so the preset's predictor width is left out for it, while
// the same key typed by the user is still refused.
TEST(Config, DataSetPresetServesMethodsWithoutItsMethodSettings) {
  ConfigSources simclr;
  simclr.method = "simclr";
  simclr.preset = "fashion-mnist/ablation";
  const RunConfig c = assemble_config(simclr, false);
  EXPECT_EQ(c.dataset, "fashion-mnist");
  EXPECT_EQ(c.proj_hidden, 512);
  EXPECT_EQ(c.epochs, 20);
  ConfigSources sdmi = simclr;
  sdmi.method = "sdmi";
  EXPECT_EQ(assemble_config(sdmi, false).predictor_hidden, 128);
  simclr.settings = {{"predictor_hidden", "64"}};
  std::string field;
  EXPECT_NE(config_error([&] { assemble_config(simclr, false); }, &field).find("not a setting of method simclr"),
            std::string::npos);
  EXPECT_EQ(field, "predictor_hidden");
}

// The paper's toy settings: plain SGD for every method, t = 1 only for the
// cos-DV prototypes (per_method); the run records its preset.
TEST(Config, PaperPresetsSetPlainSgdAndTheCosDvTemperaturePerMethod) {
  for (const char* preset : {"gaussian/paper-fullbatch", "gaussian/paper-minibatch"}) {
    SCOPED_TRACE(preset);
    ConfigSources src;
    src.preset = preset;
    for (const char* m : {"sdmi", "sdmi-nodv", "jmi", "simsiam-sdmi"}) {
      src.method = m;
      const RunConfig c = assemble_config(src, false);
      EXPECT_EQ(c.momentum, 0.0) << m;
      EXPECT_EQ(c.temperature, 1.0) << m;
      EXPECT_EQ(c.preset, preset);
      EXPECT_EQ(c.batch_size, std::string(preset) == "gaussian/paper-fullbatch" ? 0 : 500);
    }
    for (const char* m : {"simclr", "mocov3", "taylor-dv"}) {
      src.method = m;
      const RunConfig c = assemble_config(src, false);
      EXPECT_EQ(c.momentum, 0.0) << m;
      EXPECT_EQ(c.temperature, ConfigBuilder(m).build().temperature) << m;
    }
  }
  ConfigSources plain;
  plain.method = "sdmi";
  plain.preset = "gaussian/minibatch";
  const RunConfig d = assemble_config(plain, false);
  EXPECT_EQ(d.momentum, 0.9);
  EXPECT_EQ(d.temperature, 0.1);
  EXPECT_EQ(d.preset, "gaussian/minibatch");
}

// Each method's published output normalisation is its default; the
// variants share their parent's.
TEST(Config, ProjectorOutputNormDefaultsFollowThePublishedCode) {
  const std::map<std::string, std::string> published = {
      {"simsiam", "bn"}, {"mocov3", "bn"}, {"byol", "none"}, {"simclr", "none"},
      {"barlow-twins", "none"}, {"vicreg", "none"}, {"sdmi", "bn"}, {"jmi", "bn"}};
  for (const auto& [m, norm] : published) EXPECT_EQ(ConfigBuilder(m, "fashion-mnist").build(false).proj_out_norm, norm) << m;
  ConfigBuilder b("byol", "fashion-mnist");
  b.set("proj_out_norm", "bn-affine");
  EXPECT_EQ(b.build(false).proj_out_norm, "bn-affine");
  std::string field;
  EXPECT_NE(config_error([&] { ConfigBuilder x("byol", "fashion-mnist"); x.set("proj_out_norm", "layer"); x.build(false); }, &field)
                .find("bn-affine"),
            std::string::npos);
  EXPECT_EQ(field, "proj_out_norm");
}

}  // namespace
}  // namespace ssrl
