// The CLI as a user drives it: exit codes, messages, and what lands in the
// database (and what does not, on bad input).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"
#include "ssrl/storage/database.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using wb_test::Cli;
using wb_test::Result;
using wb_test::slurp;

// Small and fast: 40 points per cluster, batches of 50.
const std::vector<std::string> kSmall = {"--set", "points_per_cluster=40", "--batch-size", "50"};

std::vector<std::string> with_small(std::vector<std::string> args) {
  args.insert(args.end(), kSmall.begin(), kSmall.end());
  return args;
}

TEST_F(Cli, UnknownMethodIsUsageErrorNamingTheChoicesAndStoresNothing) {
  const auto r = run({"run", "--method", "simsam", "--epochs", "2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("method: unknown method 'simsam'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("barlow-twins"), std::string::npos);
  EXPECT_EQ(run_count(), 0u);
}

TEST_F(Cli, NegativeLearningRateIsRefusedBeforeARunExists) {
  const auto r = run({"run", "--method", "jmi", "--lr", "-0.1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("lr: must be a number > 0"), std::string::npos) << r.err;
  EXPECT_EQ(run_count(), 0u);
}

TEST_F(Cli, SettingsAMethodDoesNotHaveAreRefused) {
  auto r = run({"run", "--method", "byol", "--temperature", "0.2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("temperature"), std::string::npos);
  r = run({"run", "--method", "simclr", "--marginal", "off"});
  EXPECT_EQ(r.code, 2);
  r = run({"run", "--method", "jmi", "--set", "colour=blue"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("colour: unknown setting"), std::string::npos) << r.err;
  r = run({"run", "--method", "jmi", "--marginal", "perhaps"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("marginal: expects on or off"), std::string::npos) << r.err;
  EXPECT_EQ(run_count(), 0u);
}

TEST_F(Cli, MissingAndBrokenConfigFilesAreNamed) {
  auto r = run({"run", "--config", (dir_ / "nope.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot read config file"), std::string::npos) << r.err;
  std::ofstream(dir_ / "bad.json") << "{\"method\": \"jmi\", \"epochs\": ";
  r = run({"run", "--config", (dir_ / "bad.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
  std::ofstream(dir_ / "types.json") << R"({"method": "jmi", "epochs": "ten"})";
  r = run({"run", "--config", (dir_ / "types.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("epochs: expects an integer"), std::string::npos) << r.err;
  EXPECT_EQ(run_count(), 0u);
}

TEST_F(Cli, ADatabaseThatIsNotOursFailsWithoutTouchingIt) {
  const auto file = (dir_ / "thesis.txt").string();
  std::ofstream(file) << std::string(3000, 'q');
  const auto before = slurp(file);
  const auto r = run(with_small({"run", "--method", "jmi", "--epochs", "1"}), file);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not an SSRL Workbench database"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(file), before);
}

TEST_F(Cli, RunShowAndRunsSpeakJson) {
  const auto r = run(with_small({"run", "--method", "sdmi", "--epochs", "3", "--seed", "5", "--name", "mine"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("finished"), std::string::npos);
  EXPECT_NE(r.out.find("encoder g"), std::string::npos);

  const auto runs = run({"runs", "--format", "json"});
  ASSERT_EQ(runs.code, 0);
  const auto list = json::parse(runs.out);
  ASSERT_EQ(list.size(), 1u);
  for (const char* key : {"id", "name", "method", "dataset", "status", "seed"}) EXPECT_TRUE(list[0].contains(key)) << key;
  EXPECT_EQ(list[0]["name"], "mine");
  EXPECT_EQ(list[0]["seed"], 5);
  EXPECT_EQ(list[0]["status"], "finished");

  const auto show = run({"show", "mine", "--format", "json"});
  ASSERT_EQ(show.code, 0) << show.err;
  const auto j = json::parse(show.out);
  for (const char* key : {"id", "name", "method", "status", "config", "epochs", "final"}) EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["config"]["marginal"], true);
  EXPECT_EQ(j["config"]["seed"], 5);
  ASSERT_EQ(j["epochs"].size(), 3u);
  const auto& e = j["epochs"][2];
  EXPECT_EQ(e["epoch"], 3);
  for (const char* key : {"loss", "embedding_std", "effective_rank"}) EXPECT_TRUE(e[key].is_number()) << key;
  for (const char* key : {"cos_dv", "infonce", "jsd"}) EXPECT_TRUE(e["mi"][key].is_number()) << key;
  for (const char* enc : {"f", "g"}) {
    const auto& f = j["final"]["encoders"][enc];
    for (const char* key : {"nn_gap_mean", "nn_gap_min", "nn_gap_max", "nn_gap_sd"}) EXPECT_TRUE(f[key].is_number());
    EXPECT_EQ(f["centres"].size(), 5u);
  }
  // The stored config replays as a config file.
  std::ofstream(dir_ / "again.json") << j["config"].dump();
  const auto again = run({"run", "--config", (dir_ / "again.json").string(), "--epochs", "1"});
  EXPECT_EQ(again.code, 0) << again.err;
}

// The data sets and the settings, listed from their declarations.
TEST_F(Cli, DatasetsAndSettingsList) {
  auto r = run({"datasets"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fashion-mnist"), std::string::npos);
  EXPECT_NE(r.out.find("0.286"), std::string::npos) << r.out;
  r = run({"datasets", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto d = json::parse(r.out);
  ASSERT_EQ(d.size(), 6u);
  EXPECT_EQ(d[2]["name"], "cifar10");
  EXPECT_EQ(d[2]["mean"].size(), 3u);
  r = run({"settings", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto s = json::parse(r.out);
  bool init_from = false;
  for (const auto& f : s) init_from = init_from || f["key"] == "init_from";
  EXPECT_TRUE(init_from);
  EXPECT_EQ(run({"settings", "--format", "yaml"}).code, 2);
}

// A Gaussian run keeps a checkpoint; its encoders export for PyTorch, and a
// new run starts from the file (stored by absolute path).
TEST_F(Cli, ExportWeightsAndInitFrom) {
  ASSERT_EQ(run(with_small({"run", "--method", "sdmi", "--epochs", "2"})).code, 0);
  const auto out = (dir_ / "g.pt").string();
  auto r = run({"export", "weights", "--run", "1", "--encoder", "g", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("model = MlpEncoder(in_dim=2, hidden=64, out_dim=3)"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_regular_file(out));
  r = run({"export", "weights", "--run", "1", "--encoder", "h", "--out", out});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("accepted: f, g"), std::string::npos) << r.err;
  EXPECT_EQ(run({"export", "weights", "--run", "1", "--part", "backbone", "--out", out}).code, 2);
  EXPECT_EQ(run({"export", "weights", "--run", "9", "--out", out}).code, 2);
  fs::create_directories(dir_ / "elsewhere");
  r = run(with_small({"run", "--method", "jmi", "--epochs", "1", "--init-from", (dir_ / "elsewhere" / ".." / "g.pt").string()}));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = json::parse(run({"show", "2", "--format", "json"}).out);
  EXPECT_EQ(j["config"]["init_from"], out);
  r = run(with_small({"run", "--method", "jmi", "--epochs", "1", "--init-from", (dir_ / "none.pt").string()}));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("init_from"), std::string::npos) << r.err;
}

TEST_F(Cli, SimSiamFirstEpochMiIsNull) {
  ASSERT_EQ(run(with_small({"run", "--method", "simsiam", "--epochs", "2"})).code, 0);
  const auto j = json::parse(run({"show", "1", "--format", "json"}).out);
  EXPECT_TRUE(j["epochs"][0]["mi"]["cos_dv"].is_null());
  EXPECT_TRUE(j["epochs"][0]["mi"]["jsd"].is_null());
  EXPECT_TRUE(j["epochs"][1]["mi"]["cos_dv"].is_number());
  EXPECT_FALSE(j["final"]["encoders"].contains("g"));
}

TEST_F(Cli, ReproduceExportAndUnknownRun) {
  const auto r = run({"reproduce", "gaussian", "--methods", "jmi,sdmi-nodv", "--seeds", "0,1", "--set", "epochs=2",
                      "--set", "points_per_cluster=40", "--set", "batch_size=50", "--jobs", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("optimum"), std::string::npos);
  EXPECT_NE(r.out.find("triangular bipyramid"), std::string::npos);
  EXPECT_EQ(run_count(), 4u);
  for (const char* fmt : {"csv", "markdown", "latex"}) {
    const auto e = run({"export", "table", "--latest", "--format", fmt});
    EXPECT_EQ(e.code, 0) << fmt << e.err;
    EXPECT_NE(e.out.find("sdmi-nodv"), std::string::npos) << fmt;
  }
  const auto file = run({"export", "table", "--format", "csv", "--out", (dir_ / "t.csv").string()});
  EXPECT_EQ(file.code, 0);
  EXPECT_NE(slurp(dir_ / "t.csv").find("jmi,JMI"), std::string::npos);
  EXPECT_EQ(run({"export", "table", "--format", "xlsx"}).code, 2);
  EXPECT_EQ(run({"show", "999"}).code, 2);
  EXPECT_EQ(run({"reproduce", "gaussian", "--methods", "nope"}).code, 2);
  EXPECT_EQ(run({"reproduce", "gaussian", "--set", "bt_lambda=-1", "--methods", "barlow-twins"}).code, 2);
  EXPECT_EQ(run_count(), 4u);
}

TEST_F(Cli, MethodsListsEveryMethodAndVariant) {
  const auto r = run({"methods", "--format", "json"});
  ASSERT_EQ(r.code, 0);
  const auto j = json::parse(r.out);
  std::vector<std::string> names;
  for (const auto& m : j) names.push_back(m["name"]);
  for (const char* n : {"sdmi", "jmi", "simsiam", "byol", "mocov3", "simclr", "barlow-twins", "vicreg", "taylor-dv",
                        "mocov2", "dino", "swav", "w-mse", "sdmi-nodv", "sdmi-nodv-pred", "simsiam-nopred", "simsiam-sdmi"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(j[0]["paradigm"], "SDMI");
  EXPECT_TRUE(j[0]["defaults"].contains("temperature"));
  // Each method's head: layers, output norm, source; variants on their parent's.
  for (const auto& m : j) {
    EXPECT_FALSE(m["head"]["projector"].empty()) << m["name"];
    EXPECT_FALSE(m["head"]["source"].get<std::string>().empty()) << m["name"];
  }
  auto head = [&](const char* name) {
    for (const auto& m : j)
      if (m["name"] == name) return m["head"];
    return json();
  };
  EXPECT_EQ(head("simsiam")["output_norm"], "bn");
  EXPECT_EQ(head("simsiam")["projector"].back(), "BatchNorm1d(256, affine=false)");
  EXPECT_EQ(head("vicreg")["output_norm"], "none");
  EXPECT_EQ(head("vicreg")["projector"].back(), "Linear(2048, 256, bias)");
  EXPECT_EQ(head("mocov3")["predictor"].back(), "Linear(256, 256, no bias)");
  EXPECT_EQ(head("simsiam-nopred")["projector"], head("simsiam")["projector"]);
  EXPECT_TRUE(head("simsiam-nopred")["predictor"].empty());
  EXPECT_EQ(head("sdmi-nodv-pred")["projector"], head("sdmi")["projector"]);
}

// The paper's toy presets, named wherever the results appear; the ablation
// on the Gaussian experiment; collapse at both levels in `show`.
TEST_F(Cli, PaperPresetAndGaussianAblation) {
  const auto r = run({"reproduce", "gaussian", "--preset", "gaussian/paper-fullbatch", "--methods", "sdmi,simclr",
                      "--seeds", "0", "--set", "epochs=3", "--set", "points_per_cluster=40", "--jobs", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Settings: preset gaussian/paper-fullbatch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("momentum 0.00, t 1.00, preset gaussian/paper-fullbatch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("momentum 0.00, t 0.10, preset gaussian/paper-fullbatch"), std::string::npos) << r.out;  // simclr
  const auto show = json::parse(run({"show", "1", "--format", "json"}).out);
  EXPECT_EQ(show["config"]["preset"], "gaussian/paper-fullbatch");
  EXPECT_EQ(show["config"]["momentum"], 0.0);
  const auto& e = show["epochs"][2];
  EXPECT_TRUE(e["backbone"]["embedding_std"].is_number());
  EXPECT_TRUE(e["backbone"]["effective_rank"].is_number());
  EXPECT_TRUE(e["out_scale_norm"].is_number());  // the MLP ends in an affine BN
  EXPECT_TRUE(e["collapse"]["g"]["projection"]["effective_rank"].is_number());
  EXPECT_EQ(run({"reproduce", "gaussian", "--preset", "fashion-mnist/ablation", "--methods", "sdmi"}).code, 2);
  const auto a = run({"reproduce", "ablation", "--dataset", "gaussian", "--set", "epochs=2", "--set",
                      "points_per_cluster=40", "--set", "batch_size=50", "--jobs", "2"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_NE(a.out.find("Ablation on the Gaussian experiment"), std::string::npos) << a.out;
  for (const char* m : {"sdmi-nodv-pred", "simsiam-nopred", "simsiam-sdmi"}) EXPECT_NE(a.out.find(m), std::string::npos) << m;
  EXPECT_EQ(run_count(), 2u + 6u);
}

TEST_F(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run({"frobnicate"}).code, 2);
  EXPECT_EQ(run({"run", "--epochs"}).code, 2);
  EXPECT_EQ(run({"--help"}).code, 0);
}

// Ctrl-C stops after the current step; the run is stored as interrupted.
TEST_F(Cli, InterruptStoresTheRunAsInterrupted) {
  const pid_t pid = start({"run", "--method", "jmi", "--epochs", "100000", "--set", "points_per_cluster=40", "--batch-size", "50"});
  const auto epochs_done = [](const std::vector<ssrl::storage::RunRow>& rows) { return rows.empty() ? 0 : rows[0].epochs_done; };
  const int done = epochs_done(poll_runs([&](const auto& rows) { return epochs_done(rows) >= 3; }, 30000));
  ASSERT_GE(done, 3);
  const int status = interrupt(pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  ssrl::storage::Database db(db_, ssrl::storage::Database::Mode::ReadOnly);
  const auto rows = db.list_runs();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "interrupted");
  EXPECT_GE(rows[0].epochs_done, done);
  EXPECT_EQ(rows[0].finals.size(), 1u);
}

}  // namespace

namespace {

bool has_display() {
  const char* d = std::getenv("DISPLAY");
  return d != nullptr && *d != '\0';
}

// Figures from the CLI. Run twice by CTest: as part of the cli suite (no
// display: sphere figures must fail cleanly) and under xvfb-run (they must
// be written).
// The estimators against a known truth: results file, tables and (GUI
// builds) the figure, which `export figure` redraws from the results file.
TEST_F(Cli, MiCalibrationWritesResultsTablesAndFigure) {
  const auto out = dir_ / "cal";
  const auto r = run({"reproduce", "mi-calibration", "--quick", "--out", out.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("InfoNCE"), std::string::npos) << r.out;
  const json j = json::parse(slurp(out / "calibration.json"));
  ASSERT_TRUE(j["rows"].is_array());
  EXPECT_EQ(j["rows"].size(), 4u * 2u * 3u * 2u);  // 4 pairs x 2 sizes x 3 estimators x 2 critics
  for (const auto& row : j["rows"]) {
    if (row["estimator"] == "infonce") {
      EXPECT_LE(row["mean"].get<double>(), std::log(row["n"].get<double>()) + 1e-9);
    }
  }
  for (const char* f : {"calibration.csv", "table.md", "table.tex"}) EXPECT_TRUE(fs::exists(out / f)) << f;
#ifdef WB_WITH_GUI
  EXPECT_NE(slurp(out / "mi-calibration.svg").find("<svg"), std::string::npos);
  const auto fig = run({"export", "figure", "--kind", "mi-calibration", "--input", (out / "calibration.json").string(),
                        "--out", (dir_ / "again.png").string()});
  EXPECT_EQ(fig.code, 0) << fig.err;
  EXPECT_GT(fs::file_size(dir_ / "again.png"), 1000u);
  const auto bad = run({"export", "figure", "--kind", "mi-calibration", "--input", (out / "table.md").string(), "--out",
                        (dir_ / "x.svg").string()});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("table.md"), std::string::npos) << bad.err;
#endif
}

// Without a display the window says so and exits; Qt would abort.
TEST_F(Cli, NoDisplayGivesAMessageNotACrash) {
#ifndef WB_WITH_GUI
  GTEST_SKIP() << "a headless build has no window";
#else
  if (has_display() || std::getenv("WAYLAND_DISPLAY") != nullptr) GTEST_SKIP() << "a display is set: the window would open";
  const auto r = run({});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("needs a display"), std::string::npos) << r.err;
#endif
}

TEST_F(Cli, FiguresExportFromTheCommandLine) {
#ifndef WB_WITH_GUI
  {  // its own scope: the figure checks below declare their own `r`
    const auto r = run({"export", "figure", "--kind", "mi", "--run", "1", "--out", (dir_ / "x.svg").string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("WB_BUILD_GUI=OFF"), std::string::npos) << r.err;
    return;
  }
#endif
  const auto out = dir_ / "figs";
  const auto rep = run({"reproduce", "gaussian", "--methods", "sdmi,jmi,sdmi-nodv", "--seeds", "0", "--set", "epochs=3",
                        "--set", "points_per_cluster=40", "--set", "batch_size=50", "--out", out.string()});
  for (const char* f : {"mi-cos_dv.svg", "mi-infonce.svg", "mi-jsd.svg", "ablation.svg"})
    EXPECT_TRUE(fs::exists(out / f)) << f << "\n" << rep.err;
  if (has_display()) {
    EXPECT_EQ(rep.code, 0) << rep.err;
    for (const char* f : {"trajectories-sdmi.png", "trajectories-jmi.png", "trajectories-sdmi-nodv.png"})
      EXPECT_GT(fs::exists(out / f) ? fs::file_size(out / f) : 0, 10000u) << f;
  } else {
    EXPECT_EQ(rep.code, 1);
    EXPECT_NE(rep.err.find("xvfb-run"), std::string::npos) << rep.err;
  }
  // One run's MI curves, SVG and PNG, sized by flags.
  auto r = run({"export", "figure", "--kind", "mi", "--run", "1", "--out", (dir_ / "mi.svg").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(dir_ / "mi.svg").find("<svg"), std::string::npos);
  r = run({"export", "figure", "--kind", "mi", "--run", "1", "--width", "900", "--height", "500", "--dpi", "96", "--out",
           (dir_ / "mi.png").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  std::ifstream png(dir_ / "mi.png", std::ios::binary);
  unsigned char header[24] = {};
  png.read(reinterpret_cast<char*>(header), 24);
  const unsigned width = (header[16] << 24) | (header[17] << 16) | (header[18] << 8) | header[19];
  const unsigned height = (header[20] << 24) | (header[21] << 16) | (header[22] << 8) | header[23];
  EXPECT_EQ(width, 900u);
  EXPECT_EQ(height, 500u);
  // Trajectories and snapshots: written with a display, a clear error without.
  r = run({"export", "figure", "--kind", "snapshots", "--run", "1", "--epochs", "1,2,3", "--out",
           (dir_ / "snap.png").string()});
  if (has_display()) {
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(fs::exists(dir_ / "snap.png"));
  } else {
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("no X display"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Segmentation"), std::string::npos);
  }
  // Bad requests name the problem.
  EXPECT_EQ(run({"export", "figure", "--kind", "pie", "--run", "1", "--out", "x.png"}).code, 2);
  r = run({"export", "figure", "--kind", "trajectories", "--run", "1", "--out", (dir_ / "t.svg").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(".png"), std::string::npos) << r.err;
  EXPECT_EQ(run({"export", "figure", "--kind", "trajectories", "--run", "77", "--out", (dir_ / "t.png").string()}).code, 2);
  EXPECT_EQ(run({"export", "figure", "--kind", "snapshots", "--run", "1", "--epochs", "500", "--out", (dir_ / "s.png").string()}).code, 2);
}

}  // namespace

#include "core/image_files.hpp"

namespace {

// Image data through the CLI, on a small CIFAR-10 folder the test writes.
class ImageCli : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    data_ = (dir_ / "cifar").string();
    ssrl::test::write_cifar10(data_, 60, 40);
  }
  std::vector<std::string> small(std::vector<std::string> args) const {
    for (const char* a : {"--dataset", "cifar10", "--encoder", "small-cnn", "--batch-size", "32", "--set", "val_subset=32",
                          "--set", "knn_bank=64", "--set", "proj_hidden=64", "--set", "proj_dim=32", "--probe-epochs", "2"})
      args.push_back(a);
    args.push_back("--data-dir");
    args.push_back(data_);
    return args;
  }
  std::string data_;
};

// `bench train` runs end to end on a small Fashion-MNIST folder (the numbers
// are for people to read; only that it measures something is checked).
TEST_F(Cli, BenchTrainMeasuresTheDataPipelineAndAStep) {
  ssrl::test::write_fashion_mnist(dir_ / "fm", 64, 16, false);
  const auto r = run({"bench", "train", "--encoders", "small-cnn", "--methods", "jmi", "--steps", "1", "--batch-small",
                      "16", "--data-dir", (dir_ / "fm").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fashion-mnist"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(data pipeline)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("jmi"), std::string::npos) << r.out;
}

TEST_F(ImageCli, MissingAndDamagedDataAreRefusedBeforeARunExists) {
  auto r = run({"run", "--method", "simclr", "--dataset", "cifar10", "--data-dir", (dir_ / "nowhere").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("data_dir: folder"), std::string::npos) << r.err;
  auto bytes = ssrl::test::cifar_records(5, 10, 3);
  bytes.resize(bytes.size() - 10);
  ssrl::test::write_file(fs::path(data_) / "data_batch_2.bin", bytes, false);
  r = run(small({"run", "--method", "simclr", "--epochs", "1"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("data_batch_2.bin"), std::string::npos) << r.err;
  EXPECT_EQ(run_count(), 0u);
  r = run({"run", "--method", "simclr", "--dataset", "cifar10", "--data-dir", data_, "--encoder", "mlp"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("encoder:"), std::string::npos) << r.err;
}

TEST_F(ImageCli, TrainsProbesAndReportsKnnAndTheProbe) {
  const auto r = run(small({"run", "--method", "byol", "--epochs", "2", "--checkpoint-every", "1"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("linear probe top-1"), std::string::npos);
  const auto j = json::parse(run({"show", "1", "--format", "json"}).out);
  ASSERT_TRUE(j["final"].contains("linear_probe"));
  const double top1 = j["final"]["linear_probe"]["top1"];
  EXPECT_GE(top1, 0.0);
  EXPECT_LE(top1, 1.0);
  EXPECT_TRUE(j["epochs"][1]["knn_top1"].is_number());
  EXPECT_TRUE(j["epochs"][1]["mi"]["cos_dv"].is_number());
  EXPECT_EQ(j["config"]["dataset"], "cifar10");
  EXPECT_EQ(j["config"]["encoder"], "small-cnn");
  EXPECT_EQ(j["checkpoint"]["epoch"], 2);
  EXPECT_TRUE(fs::exists(j["checkpoint"]["path"].get<std::string>()));
  // The untrained baseline, and the probe table beside it.
  const auto b = run({"probe", "--random-init", "--dataset", "cifar10", "--data-dir", data_, "--encoder", "small-cnn",
                      "--set", "val_subset=32", "--set", "batch_size=32", "--probe-epochs", "2"});
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.out.find("random-init small-cnn"), std::string::npos) << b.out;
  const auto t = run({"export", "table", "--dataset", "cifar10", "--format", "csv"});
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("byol,SDMI"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("random-init,baseline"), std::string::npos) << t.out;
}

TEST_F(ImageCli, PresetsCarryThePapersSettings) {
  const auto list = run({"presets"});
  ASSERT_EQ(list.code, 0);
  for (const char* p : {"cifar10/simclr", "cifar100/mocov3", "tiny-imagenet/sdmi", "imagenet100/byol", "fashion-mnist/ablation"})
    EXPECT_NE(list.out.find(p), std::string::npos) << p;
  // CIFAR-100 MoCo-v3: lr 0.05, wd 1e-4, t 0.1, projection 256 in 2 layers.
  auto r = run({"run", "--preset", "cifar100/mocov3", "--method", "byol"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("is for method mocov3"), std::string::npos) << r.err;
  ssrl::test::write_file(dir_ / "c100" / "train.bin", ssrl::test::cifar_records(64, 100, 1), false);
  ssrl::test::write_file(dir_ / "c100" / "test.bin", ssrl::test::cifar_records(32, 100, 2), false);
  r = run({"run", "--preset", "cifar100/mocov3", "--data-dir", (dir_ / "c100").string(), "--encoder", "small-cnn",
           "--epochs", "1", "--batch-size", "32", "--set", "val_subset=16", "--set", "knn_bank=0", "--probe-epochs", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = json::parse(run({"show", "1", "--format", "json"}).out);
  EXPECT_EQ(j["method"], "mocov3");
  EXPECT_DOUBLE_EQ(j["config"]["lr"].get<double>(), 0.05);
  EXPECT_DOUBLE_EQ(j["config"]["weight_decay"].get<double>(), 1e-4);
  EXPECT_DOUBLE_EQ(j["config"]["temperature"].get<double>(), 0.1);
  EXPECT_EQ(j["config"]["proj_dim"], 256);
  EXPECT_EQ(j["config"]["proj_layers"], 2);
  EXPECT_DOUBLE_EQ(j["config"]["ema_momentum"].get<double>(), 0.996);
}

// An image run's encoder, exported whole and in parts, loads strictly into
// the PyTorch module `export weights` names (Debian's python3-torch; skipped
// without it). The numbers are compared in test_weights.
TEST_F(ImageCli, ExportedEncoderLoadsIntoTheNamedPyTorchModule) {
  std::string python;
  for (const char* candidate : {"/usr/bin/python3", "python3"})
    if (python.empty() && std::system((std::string(candidate) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0)
      python = candidate;
  if (python.empty()) GTEST_SKIP() << "no python3 that imports torch (install Debian's python3-torch)";
  ASSERT_EQ(run(small({"run", "--method", "byol", "--epochs", "1"})).code, 0);
  for (const char* part : {"all", "backbone", "projector"}) {
    const auto out = (dir_ / (std::string(part) + ".pt")).string();
    const auto r = run({"export", "weights", "--run", "1", "--part", part, "--out", out});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto at = r.out.find("model = ");
    ASSERT_NE(at, std::string::npos) << r.out;
    const std::string call = r.out.substr(at + 8, r.out.find('\n', at) - at - 8);
    std::ofstream(dir_ / "load.py") << "import sys, torch\nsys.path.insert(0, '" << WB_SOURCE_DIR << "/resources/python')\n"
                                   << "from ssrl_encoders import *\nm = " << call << "\n"
                                   << "m.load_state_dict(torch.load('" << out << "'))\n";
    EXPECT_EQ(std::system((python + " " + (dir_ / "load.py").string()).c_str()), 0) << part << ": " << call;
  }
}

// Ctrl-C in the middle of an image run keeps the last completed epoch in a
// checkpoint; --resume carries on to the end.
TEST_F(ImageCli, InterruptAndResume) {
  const int planned = 4;
  const pid_t pid = start(small({"run", "--method", "simclr", "--epochs", std::to_string(planned)}));
  // Two epochs stored and two still to come: the interrupt lands in the
  // middle of training, never after it.
  const auto [at_signal, status] = interrupt_when(pid, [&](const Runs& rows) {
    return rows.size() == 1 && rows[0].status == "running" && rows[0].epochs_done >= 2 && rows[0].epochs_done <= planned - 2;
  }, 120000);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 130);
  ssrl::storage::Database db(db_, ssrl::storage::Database::Mode::ReadOnly);
  auto rows = db.list_runs();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "interrupted");
  EXPECT_GE(rows[0].epochs_done, at_signal[0].epochs_done);
  EXPECT_GE(rows[0].checkpoint_epoch, 2);
  EXPECT_EQ(rows[0].checkpoint_epoch, rows[0].epochs_done);
  const auto r = run({"run", "--resume", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  rows = db.list_runs();
  EXPECT_EQ(rows[0].status, "finished");
  EXPECT_EQ(rows[0].epochs_done, planned);
  ASSERT_TRUE(rows[0].probe_top1.has_value());
  EXPECT_EQ(run({"run", "--resume", "1"}).code, 2);  // finished runs do not resume
}

}  // namespace
