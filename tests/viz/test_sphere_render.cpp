// Offscreen render of known trajectories on the unit sphere: not blank, each
// cluster's colour where its final centre projects, and close to a checked-in
// baseline. Failing images are kept in the build tree for a person to look at.
#include <gtest/gtest.h>

#include <QImage>

#include <cmath>
#include <filesystem>

#include "ssrl/viz/sphere_figure.hpp"

namespace ssrl::viz {
namespace {

namespace fs = std::filesystem;

// Five clusters start near (1, 0, 0) and travel along great circles to a
// triangular bipyramid over ten epochs.
SphereFigure known_figure() {
  const double s = std::sqrt(3.0) / 2.0;
  const std::vector<Vec3> end = {{0, 0, 1}, {0, 0, -1}, {1, 0, 0}, {-0.5, s, 0}, {-0.5, -s, 0}};
  std::vector<Vec3> start;
  for (int k = 0; k < 5; ++k) {
    const double a = 0.25 * (k - 2);
    start.push_back({std::cos(a) * 0.8, std::sin(a) * 0.8, 0.6});
  }
  SphereTrajectories run;
  run.label = "known";
  for (int e = 0; e < 10; ++e) {
    std::vector<Vec3> row;
    for (int k = 0; k < 5; ++k) {
      const auto arc = great_circle_arc(start[static_cast<std::size_t>(k)], end[static_cast<std::size_t>(k)], 0.5);
      const auto idx = static_cast<std::size_t>(std::lround((arc.size() - 1) * e / 9.0));
      row.push_back(arc[idx]);
    }
    run.centres.push_back(row);
  }
  SpherePanel panel;
  panel.title = "known trajectories";
  panel.runs.push_back(run);
  panel.stats = separation_stats(end);
  SphereFigure fig;
  fig.panels.push_back(panel);
  return fig;
}

QImage to_qimage(const RenderedImage& img) {
  return QImage(img.rgb.data(), img.width, img.height, img.width * 3, QImage::Format_RGB888).copy();
}

std::string keep(const QImage& img, const std::string& name) {
  const fs::path dir = fs::path(WB_RENDER_OUT_DIR);
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  img.save(QString::fromStdString(path));
  return path;
}

class SphereRender : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = offscreen_problem(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(SphereRender, GreatCircleArcsStayOnTheSphere) {
  const auto arc = great_circle_arc({1, 0, 0}, {0, 1, 0}, 2.0);
  EXPECT_EQ(arc.size(), 46u);  // 90 degrees in 2-degree steps, both ends
  for (const auto& p : arc) EXPECT_NEAR(p.x * p.x + p.y * p.y + p.z * p.z, 1.0, 1e-12);
  const auto fine = great_circle_arc({1, 0, 0}, {0, 1, 0}, 1.0);
  ASSERT_EQ(fine.size(), 91u);
  EXPECT_NEAR(fine[45].x, std::cos(M_PI / 4), 1e-12);  // the midpoint is on the arc, not the chord
  EXPECT_NEAR(fine[45].y, std::sin(M_PI / 4), 1e-12);
  const auto anti = great_circle_arc({0, 0, 1}, {0, 0, -1}, 10.0);
  for (const auto& p : anti) EXPECT_NEAR(p.x * p.x + p.y * p.y + p.z * p.z, 1.0, 1e-12);
  EXPECT_LT(epoch_opacity(1, 100), epoch_opacity(50, 100));
  EXPECT_DOUBLE_EQ(epoch_opacity(100, 100), 1.0);
}

TEST_F(SphereRender, KnownTrajectoriesLandWhereTheyMust) {
  const auto img = render_offscreen(known_figure(), 480, 360);
  ASSERT_EQ(img.width, 480);
  ASSERT_EQ(img.height, 360);
  const QImage q = to_qimage(img);
  // Not blank: many distinct colours beyond the white background.
  int non_white = 0;
  for (std::size_t i = 0; i < img.rgb.size(); i += 3) non_white += img.rgb[i] < 240 || img.rgb[i + 1] < 240 || img.rgb[i + 2] < 240;
  EXPECT_GT(non_white, 480 * 360 / 10) << "image looks blank: " << keep(q, "sphere_render_blank.png");
  // Each cluster's colour near its projected final centre.
  ASSERT_EQ(img.final_centres_px.size(), 1u);
  ASSERT_EQ(img.final_centres_px[0].size(), 5u);
  // Chromaticity: shading and the translucent sphere in front of a far-side
  // marker change brightness and tint, not which cluster a pixel belongs to.
  auto chroma_distance = [](const QColor& c, int cluster) {
    double rgb[3];
    cluster_colour(cluster, rgb);
    const double sum = c.redF() + c.greenF() + c.blueF() + 1e-6, ref = rgb[0] + rgb[1] + rgb[2];
    return std::abs(c.redF() / sum - rgb[0] / ref) + std::abs(c.greenF() / sum - rgb[1] / ref) +
           std::abs(c.blueF() / sum - rgb[2] / ref);
  };
  bool ok = true;
  for (int k = 0; k < 5; ++k) {
    const auto [cx, cy] = img.final_centres_px[0][static_cast<std::size_t>(k)];
    double best = 1e9;
    bool nearest_is_k = false;
    for (int dy = -4; dy <= 4; ++dy)
      for (int dx = -4; dx <= 4; ++dx) {
        const int x = static_cast<int>(std::lround(cx)) + dx, y = static_cast<int>(std::lround(cy)) + dy;
        if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
        const QColor c = q.pixelColor(x, y);
        const double d = chroma_distance(c, k);
        if (d < best) {
          best = d;
          nearest_is_k = true;
          for (int other = 0; other < 5; ++other)
            if (other != k && chroma_distance(c, other) < d) nearest_is_k = false;
        }
      }
    EXPECT_LT(best, 0.15) << "cluster " << k + 1 << " colour not found near (" << cx << ", " << cy << ")";
    EXPECT_TRUE(nearest_is_k) << "the pixel near cluster " << k + 1 << "'s centre looks like another cluster";
    ok = ok && best < 0.15 && nearest_is_k;
  }
  if (!ok) ADD_FAILURE() << "kept " << keep(q, "sphere_render_probes.png");
}

TEST_F(SphereRender, MatchesTheBaselineImage) {
  const auto img = render_offscreen(known_figure(), 480, 360);
  const QImage actual = to_qimage(img);
  const std::string baseline_path = std::string(WB_TEST_DATA) + "/golden/sphere_baseline.png";
  QImage baseline(QString::fromStdString(baseline_path));
  if (baseline.isNull()) FAIL() << "no baseline at " << baseline_path << "; candidate kept at " << keep(actual, "sphere_render_actual.png");
  baseline = baseline.convertToFormat(QImage::Format_RGB888);
  ASSERT_EQ(baseline.size(), actual.size());
  double total = 0;
  long far = 0;
  for (int y = 0; y < actual.height(); ++y)
    for (int x = 0; x < actual.width(); ++x) {
      const QColor a = actual.pixelColor(x, y), b = baseline.pixelColor(x, y);
      const int d = std::max({std::abs(a.red() - b.red()), std::abs(a.green() - b.green()), std::abs(a.blue() - b.blue())});
      total += d;
      far += d > 48;
    }
  const double mean = total / (actual.width() * actual.height());
  const double far_fraction = static_cast<double>(far) / (actual.width() * actual.height());
  const bool ok = mean < 2.5 && far_fraction < 0.01;
  EXPECT_TRUE(ok) << "mean |diff| " << mean << ", pixels off by > 48: " << 100 * far_fraction
                  << "%; kept " << keep(actual, "sphere_render_actual.png");
}

TEST(SphereRenderErrors, NoDisplayIsAClearErrorNotACrash) {
  const char* old = std::getenv("DISPLAY");
  const std::string saved = old ? old : "";
  unsetenv("DISPLAY");
  EXPECT_NE(offscreen_problem().find("xvfb-run"), std::string::npos);
  try {
    render_offscreen(known_figure(), 100, 100);
    ADD_FAILURE() << "rendered without a display";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("DISPLAY"), std::string::npos) << e.what();
  }
  setenv("DISPLAY", ":987654", 1);  // a display that does not exist
  EXPECT_NE(offscreen_problem().find("cannot open the X display"), std::string::npos);
  if (!saved.empty()) setenv("DISPLAY", saved.c_str(), 1);
  else unsetenv("DISPLAY");
}

}  // namespace
}  // namespace ssrl::viz
