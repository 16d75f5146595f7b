// MetricChart's drawing policy: buffered points all reach the chart, axes
// always hold every point, and change only when a point leaves them.
#include "ssrl/viz/metric_chart.hpp"

#include <QApplication>
#include <QtCharts/QValueAxis>

#include <gtest/gtest.h>

namespace {

using ssrl::viz::MetricChart;

QValueAxis* axis(MetricChart& c, Qt::Orientation o) {
  return qobject_cast<QValueAxis*>(c.chart()->axes(o).front());
}

TEST(MetricChart, LiveAxisGrowsInRoundStepsUpToThePlannedEpochs) {
  MetricChart c(QStringLiteral("loss"), QStringLiteral("loss"));
  c.addCurve(QStringLiteral("1"), {QStringLiteral("run 1"), false, 0});
  c.setEpochSpan(100);
  const int expected_right[] = {2, 2, 5, 5, 5, 10, 10, 10, 10, 10, 20};
  for (int epoch = 1; epoch <= 11; ++epoch) {
    c.appendPoint(QStringLiteral("1"), epoch, 1.0 / epoch);
    c.flush();
    EXPECT_EQ(axis(c, Qt::Horizontal)->max(), expected_right[epoch - 1]) << "epoch " << epoch;
  }
  c.appendPoint(QStringLiteral("1"), 60, 0.01);
  c.flush();
  EXPECT_EQ(axis(c, Qt::Horizontal)->max(), 100);
  c.setEpochSpan(70);                              // the span only grows
  c.appendPoint(QStringLiteral("1"), 61, 0.01);
  c.flush();
  EXPECT_EQ(axis(c, Qt::Horizontal)->max(), 100);
}

TEST(MetricChart, LiveAxisStopsAtTheRunsLastEpoch) {
  MetricChart c(QStringLiteral("loss"), QStringLiteral("loss"));
  c.addCurve(QStringLiteral("1"), {QStringLiteral("run 1"), false, 0});
  c.setEpochSpan(30);
  c.appendPoint(QStringLiteral("1"), 21, 0.5);
  c.flush();
  EXPECT_EQ(axis(c, Qt::Horizontal)->max(), 30);  // not 50
}

TEST(MetricChart, StoredRunAxisEndsAtItsLastEpoch) {
  MetricChart c(QStringLiteral("loss"), QStringLiteral("loss"));
  c.addCurve(QStringLiteral("1"), {QStringLiteral("run 1"), false, 0});
  std::vector<ssrl::viz::CurvePoint> points;
  for (int e = 1; e <= 37; ++e) points.push_back({e, static_cast<double>(e)});
  c.setPoints(QStringLiteral("1"), points);
  EXPECT_EQ(axis(c, Qt::Horizontal)->min(), 1);
  EXPECT_EQ(axis(c, Qt::Horizontal)->max(), 37);
  EXPECT_EQ(c.pointCount(QStringLiteral("1")), 37);
}

TEST(MetricChart, YAxisHoldsEveryPointAndMovesOnlyWhenOneLeavesIt) {
  MetricChart c(QStringLiteral("mi"), QStringLiteral("nats"));
  c.addCurve(QStringLiteral("1"), {QStringLiteral("run 1"), false, 0});
  c.appendPoint(QStringLiteral("1"), 1, 1.0);
  c.appendPoint(QStringLiteral("1"), 2, 3.0);
  c.flush();
  QValueAxis* y = axis(c, Qt::Vertical);
  const double lo = y->min(), hi = y->max();
  EXPECT_LE(lo, 1.0);
  EXPECT_GE(hi, 3.0);
  c.appendPoint(QStringLiteral("1"), 3, 2.0);  // inside: the axis stays
  c.flush();
  EXPECT_EQ(y->min(), lo);
  EXPECT_EQ(y->max(), hi);
  c.appendPoint(QStringLiteral("1"), 4, hi + 5.0);  // outside: it grows to hold it
  c.flush();
  EXPECT_LE(y->min(), 1.0);
  EXPECT_GE(y->max(), hi + 5.0);
}

TEST(MetricChart, BufferedPointsAreDrawnOnFlushAndNoneIsLost) {
  MetricChart c(QStringLiteral("loss"), QStringLiteral("loss"));
  c.addCurve(QStringLiteral("1"), {QStringLiteral("run 1"), false, 0});
  EXPECT_FALSE(c.hasPending());
  for (int e = 1; e <= 5; ++e) c.appendPoint(QStringLiteral("1"), e, e);
  c.appendPoint(QStringLiteral("1"), 6, std::nullopt);  // a gap, not a point
  c.appendPoint(QStringLiteral("1"), 7, 7.0);
  EXPECT_TRUE(c.hasPending());
  EXPECT_EQ(c.pointCount(QStringLiteral("1")), 0);
  c.flush();
  EXPECT_FALSE(c.hasPending());
  EXPECT_EQ(c.pointCount(QStringLiteral("1")), 6);
  c.setEpochSpan(20);  // a pending axis change is work for the next flush
  EXPECT_TRUE(c.hasPending());
  c.flush();
  EXPECT_FALSE(c.hasPending());
}

TEST(MetricChart, HiddenChartDrawsItsPointsWhenShown) {
  MetricChart c(QStringLiteral("loss"), QStringLiteral("loss"));
  c.addCurve(QStringLiteral("1"), {QStringLiteral("run 1"), false, 0});
  c.appendPoint(QStringLiteral("1"), 1, 1.0);
  c.appendPoint(QStringLiteral("1"), 2, 2.0);
  c.show();
  EXPECT_EQ(c.pointCount(QStringLiteral("1")), 2);
  EXPECT_FALSE(c.hasPending());
}

}  // namespace

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
