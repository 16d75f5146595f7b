// Tables for papers: grouping, mean +- SD over seeds, and the four formats.
#include <gtest/gtest.h>

#include <cmath>

#include "ssrl/errors.hpp"
#include "ssrl/storage/report.hpp"

namespace ssrl::storage {
namespace {

RunRow row(const std::string& method, std::int64_t seed, double min_angle, double cos_dv) {
  RunRow r;
  r.id = seed + 1;
  r.method = method;
  r.paradigm = method == "jmi" ? "JMI" : "SDMI";
  r.dataset = "gaussian";
  r.status = "finished";
  r.seed = seed;
  r.epochs_planned = 100;
  r.epochs_done = 100;
  r.seconds = 2.0;
  r.config_json = R"({"batch_size":500,"epochs":100,"clusters":5})";
  r.last_mi.cos_dv = cos_dv;
  r.last_mi.infonce = cos_dv;
  r.last_mi.jsd = -1.0;
  r.finals = {{"f", {min_angle + 1, min_angle, min_angle + 2, 0.5}, {}}};
  return r;
}

TEST(Report, MeanAndSampleSdOverSeedsByHand) {
  // min angles 60, 70, 80: mean 70, sample SD 10.
  const auto t = separation_table({row("sdmi", 0, 60, 0.5), row("sdmi", 1, 70, 0.7), row("sdmi", 2, 80, 0.9),
                                   row("jmi", 0, 72, 0.75)});
  ASSERT_EQ(t.rows.size(), 3u);  // sdmi, jmi, optimum
  const auto& sdmi = t.rows[0];
  EXPECT_EQ(sdmi[0].text, "sdmi");
  EXPECT_EQ(sdmi[4].text, "3");
  EXPECT_DOUBLE_EQ(*sdmi[6].mean, 70.0);
  EXPECT_NEAR(*sdmi[6].sd, 10.0, 1e-12);
  EXPECT_NEAR(*sdmi[9].mean, 0.7, 1e-12);
  EXPECT_NEAR(*sdmi[9].sd, 0.2, 1e-12);
  EXPECT_FALSE(t.rows[1][6].sd.has_value());  // one seed: no SD
  EXPECT_EQ(t.rows[2][0].text, "optimum");
  EXPECT_DOUBLE_EQ(*t.rows[2][6].mean, 90.0);
}

TEST(Report, UnfinishedRunsAreLeftOutAndCollapseIsCounted) {
  auto failed = row("sdmi", 3, 10, 0.1);
  failed.status = "diverged";
  auto collapsed = row("sdmi-nodv", 0, 1, 0.5);
  collapsed.finals[0].separation.max = 3;
  const auto t = separation_table({row("sdmi", 0, 60, 0.5), failed, collapsed});
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0][4].text, "1");
  EXPECT_EQ(t.rows[1][12].text, "1/1");
}

// Probe accuracies 0.80 and 0.84 over two seeds: 82.00 ± 2.83 (sample SD);
// the untrained baseline is the last row even when it was stored first.
TEST(Report, ProbeTableAveragesSeedsAndPutsTheBaselineLast) {
  auto image = [](const std::string& method, std::int64_t id, double top1) {
    RunRow r;
    r.id = id;
    r.method = method;
    r.paradigm = method == "random-init" ? "baseline" : "SDMI";
    r.dataset = "fashion-mnist";
    r.status = "finished";
    r.config_json = R"({"encoder":"small-cnn","epochs":20})";
    r.probes = {{"f", top1, 30, 60000, 10000}};
    return r;
  };
  const auto t = probe_table({image("random-init", 1, 0.75), image("sdmi", 2, 0.80), image("sdmi", 3, 0.84)});
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][0].text, "sdmi");
  EXPECT_EQ(t.rows[0][2].text, "fashion-mnist, small-cnn, 20 ep");
  EXPECT_NEAR(*t.rows[0][5].mean, 82.0, 1e-9);
  EXPECT_NEAR(*t.rows[0][5].sd, 2.8284271247, 1e-9);
  EXPECT_EQ(t.rows[1][0].text, "random-init");
  EXPECT_EQ(t.rows[1][2].text, "fashion-mnist, small-cnn");
  EXPECT_NEAR(*t.rows[1][5].mean, 75.0, 1e-9);
}

TEST(Report, FormatsRenderTheSameCells) {
  const auto t = separation_table({row("sdmi", 0, 60, 0.5), row("sdmi", 1, 70, 0.7)});
  const auto csv = render(t, TableFormat::Csv);
  EXPECT_NE(csv.find("NN min (°),NN min (°) sd"), std::string::npos);
  EXPECT_NE(csv.find("sdmi,SDMI,\"gaussian, batch 500, 100 ep\",f,2,"), std::string::npos) << csv;
  const auto md = render(t, TableFormat::Markdown);
  EXPECT_NE(md.find("| 65.0 ± 7.1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ---: |"), std::string::npos);
  const auto tex = render(t, TableFormat::Latex);
  EXPECT_NE(tex.find("$65.0 \\pm 7.1$"), std::string::npos) << tex;
  EXPECT_NE(tex.find("NN min ($^\\circ$)"), std::string::npos) << tex;
  EXPECT_NE(tex.find("\\toprule"), std::string::npos);
  const auto text = render(t, TableFormat::Text);
  EXPECT_NE(text.find("65.0 ± 7.1"), std::string::npos);
}

TEST(Report, LatexAndCsvEscaping) {
  Table t;
  t.columns = {{"Name"}, {"Value"}};
  t.rows = {{Cell::str("a_b & 50%"), Cell::str("x,\"y\"")}};
  EXPECT_NE(render(t, TableFormat::Latex).find("a\\_b \\& 50\\%"), std::string::npos);
  EXPECT_NE(render(t, TableFormat::Csv).find("\"x,\"\"y\"\"\""), std::string::npos);
}

TEST(Report, UnknownFormatNamesTheChoices) {
  try {
    parse_table_format("xlsx");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "format");
    EXPECT_NE(std::string(e.what()).find("csv, markdown, latex"), std::string::npos);
  }
}

TEST(Report, TammesOptimaForSmallK) {
  EXPECT_DOUBLE_EQ(*tammes_optimum_deg(5), 90.0);
  EXPECT_NEAR(*tammes_optimum_deg(4), std::acos(-1.0 / 3.0) * 180 / M_PI, 1e-6);  // tetrahedron
  EXPECT_FALSE(tammes_optimum_deg(13).has_value());
}

}  // namespace
}  // namespace ssrl::storage
