// Sweep planning: the grid, sampling, per-method axes, identity, and errors
// that name the sweep and the run.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"
#include "ssrl/sweep.hpp"

namespace ssrl {
namespace {

using json = nlohmann::json;

std::string plan_error(const json& spec) {
  try {
    plan_sweep(spec, "test.json", false);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

json grid_spec() {
  return json::parse(R"({"name": "g", "methods": ["sdmi", "byol"],
                          "base": {"dataset": "gaussian", "epochs": 7},
                          "axes": {"lr": [0.1, 0.5], "temperature": [0.1, 0.2]},
                          "seeds": [3, 4]})");
}

TEST(Sweep, GridCrossesAxesAndSeedsAndSkipsAxesAMethodLacks) {
  const auto plan = plan_sweep(grid_spec(), "test.json", false);
  // SDMI: 2 lr x 2 temperatures x 2 seeds; BYOL has no temperature: 2 x 2.
  ASSERT_EQ(plan.runs.size(), 12u);
  EXPECT_EQ(plan.axes, (std::vector<std::string>{"lr", "temperature"}));
  EXPECT_EQ(plan.seeds, (std::vector<std::int64_t>{3, 4}));
  std::set<std::string> seen;
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    const auto& r = plan.runs[i];
    EXPECT_EQ(r.index, static_cast<int>(i));
    EXPECT_EQ(r.config.epochs, 7);
    EXPECT_EQ(r.point["method"], r.config.method);
    EXPECT_DOUBLE_EQ(r.config.lr, r.point["lr"].get<double>());
    if (r.config.method == "byol") EXPECT_FALSE(r.point.contains("temperature"));
    else EXPECT_DOUBLE_EQ(r.config.temperature, r.point["temperature"].get<double>());
    EXPECT_TRUE(seen.insert(r.point.dump() + "/" + std::to_string(r.config.seed)).second) << r.point.dump();
  }
  EXPECT_EQ(plan.runs[0].config.method, "sdmi");
  EXPECT_EQ(plan.runs[0].config.seed, 3);
  EXPECT_EQ(plan.runs[1].config.seed, 4);  // seeds vary fastest
  EXPECT_EQ(plan.runs[8].config.method, "byol");
  EXPECT_EQ(point_label(plan.runs[0].point), "sdmi lr=0.1 temperature=0.1");
}

TEST(Sweep, UidDependsOnWhatRunsNotOnSpelling) {
  const auto a = plan_sweep(grid_spec(), "a.json", false);
  auto respelled = grid_spec();
  respelled["description"] = "same runs, other words";
  EXPECT_EQ(plan_sweep(respelled, "b.json", false).uid, a.uid);
  auto other = grid_spec();
  other["axes"]["lr"] = json::array({0.1, 0.4});
  EXPECT_NE(plan_sweep(other, "a.json", false).uid, a.uid);
  EXPECT_EQ(a.uid.rfind("g-", 0), 0u);
}

TEST(Sweep, AValueMadeInertByTheMethodsOtherSettingsIsNotRunTwice) {
  // SimSiam's default loss (negative cosine) has no temperature.
  auto spec = json::parse(R"({"name": "s", "methods": ["simsiam"], "base": {"dataset": "gaussian"},
                              "axes": {"lr": [0.1, 0.5], "temperature": [0.1, 0.2]}})");
  auto plan = plan_sweep(spec, "s.json", false);
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_FALSE(plan.runs[0].point.contains("temperature"));
  // Under its cos-DV loss the temperature matters again.
  spec["base"]["loss"] = "cos-dv";
  plan = plan_sweep(spec, "s.json", false);
  EXPECT_EQ(plan.runs.size(), 4u);
}

TEST(Sweep, SamplingDrawsDistinctPointsInTheRangesReproducibly) {
  auto spec = json::parse(R"({"name": "r", "methods": ["simclr"], "base": {"dataset": "gaussian"},
                              "axes": {"lr": {"log_uniform": [0.01, 1.0]}, "epochs": {"int_uniform": [3, 6]},
                                       "weight_decay": [0.0, 0.0001]},
                              "sample": {"count": 6, "seed": 11}, "seeds": {"count": 2}})");
  const auto plan = plan_sweep(spec, "r.json", false);
  ASSERT_EQ(plan.runs.size(), 12u);
  std::set<std::string> points;
  for (const auto& r : plan.runs) {
    EXPECT_GE(r.config.lr, 0.01);
    EXPECT_LE(r.config.lr, 1.0);
    EXPECT_GE(r.config.epochs, 3);
    EXPECT_LE(r.config.epochs, 6);
    EXPECT_TRUE(r.config.weight_decay == 0.0 || r.config.weight_decay == 0.0001);
    points.insert(r.point.dump());
  }
  EXPECT_EQ(points.size(), 6u);
  EXPECT_EQ(plan_sweep(spec, "r.json", false).runs[4].config.lr, plan.runs[4].config.lr);
  spec["sample"]["seed"] = 12;
  EXPECT_NE(plan_sweep(spec, "r.json", false).runs[0].config.lr, plan.runs[0].config.lr);
}

TEST(Sweep, ASampleLargerThanTheGridIsTheGrid) {
  auto spec = json::parse(R"({"name": "r", "method": "jmi", "base": {"dataset": "gaussian"},
                              "axes": {"lr": [0.1, 0.2, 0.3]}, "sample": {"count": 10}})");
  EXPECT_EQ(plan_sweep(spec, "r.json", false).runs.size(), 3u);
}

TEST(Sweep, MistakesNameTheSweepTheKeyAndTheRun) {
  auto spec = grid_spec();
  spec["methods"] = json::array({"sdmi", "dinov9"});
  EXPECT_NE(plan_error(spec).find("dinov9"), std::string::npos);
  spec = grid_spec();
  spec["axes"]["learning_rate"] = json::array({0.1});
  EXPECT_NE(plan_error(spec).find("unknown setting 'learning_rate'"), std::string::npos);
  spec = grid_spec();
  spec["axes"]["seed"] = json::array({1, 2});
  EXPECT_NE(plan_error(spec).find("\"seeds\""), std::string::npos);
  spec = grid_spec();
  spec["axes"]["lr"] = json::array({0.1, -0.5});
  const std::string bad_lr = plan_error(spec);
  EXPECT_NE(bad_lr.find("test.json"), std::string::npos) << bad_lr;
  EXPECT_NE(bad_lr.find("lr=-0.5"), std::string::npos) << bad_lr;
  spec = grid_spec();
  spec["axes"]["lr"] = json{{"uniform", {0.1, 0.5}}};
  EXPECT_NE(plan_error(spec).find("ranges need \"sample\""), std::string::npos);
  spec = grid_spec();
  spec.erase("name");
  EXPECT_NE(plan_error(spec).find("needs a \"name\""), std::string::npos);
  spec = grid_spec();
  spec["grid"] = true;
  EXPECT_NE(plan_error(spec).find("unknown key 'grid'"), std::string::npos);
  spec = grid_spec();
  spec["base"]["lr"] = 0.3;
  EXPECT_NE(plan_error(spec).find("both in \"base\" and an axis"), std::string::npos);
  spec = grid_spec();
  spec["seeds"] = json::array({1, 1});
  EXPECT_NE(plan_error(spec).find("listed twice"), std::string::npos);
}

TEST(Sweep, ShippedSweepsPlanWithoutDuplicates) {
  const auto names = list_sweep_files();
  for (const char* expected : {"gaussian/demo", "paper/cifar10", "paper/cifar100", "fashion-mnist/methods"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  for (const auto& name : names) {
    const auto plan = read_sweep_file(name, false);
    EXPECT_FALSE(plan.runs.empty()) << name;
    std::set<std::string> seen;
    for (const auto& r : plan.runs)
      EXPECT_TRUE(seen.insert(r.point.dump() + "/" + std::to_string(r.config.seed)).second) << name << " " << r.point.dump();
  }
  EXPECT_EQ(read_sweep_file("gaussian/demo", false).runs.size(), 24u);
  // A data-set preset under methods that lack some of its settings (SimCLR: no predictor).
  EXPECT_EQ(read_sweep_file("fashion-mnist/methods", false).runs.size(), 9u);
  // --set pins an axis: one learning rate instead of two.
  EXPECT_EQ(read_sweep_file("gaussian/demo", false, {{"lr", "0.3"}}).runs.size(), 12u);
  EXPECT_THROW(read_sweep_file("no/such-sweep", false), ConfigError);
}

}  // namespace
}  // namespace ssrl
