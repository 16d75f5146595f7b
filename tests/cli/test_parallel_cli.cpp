// Data-parallel runs (`run --nproc 2`, Gloo over loopback): with
// synchronised batch norm, two processes compute what one process computes
// on the same global batch and seed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>

#include "cli_fixture.hpp"
#include "core/image_files.hpp"
#include "ssrl/storage/database.hpp"

namespace {

using ssrl::storage::Database;

class ParallelCli : public wb_test::Cli {
 protected:
  // Largest difference between two stored runs: loss, the MI estimates and
  // every cluster centre, every epoch.
  double max_difference(std::int64_t a, std::int64_t b) const {
    Database db(db_, Database::Mode::ReadOnly);
    const auto ra = db.load_run(a), rb = db.load_run(b);
    EXPECT_EQ(ra->epochs.size(), rb->epochs.size());
    double d = 0;
    auto opt = [&](const std::optional<double>& x, const std::optional<double>& y) {
      EXPECT_EQ(x.has_value(), y.has_value());
      if (x && y) d = std::max(d, std::abs(*x - *y));
    };
    for (std::size_t e = 0; e < std::min(ra->epochs.size(), rb->epochs.size()); ++e) {
      const auto &x = ra->epochs[e], &y = rb->epochs[e];
      d = std::max(d, std::abs(x.loss - y.loss));
      opt(x.mi.cos_dv, y.mi.cos_dv);
      opt(x.mi.infonce, y.mi.infonce);
      opt(x.mi.jsd, y.mi.jsd);
      d = std::max(d, std::abs(x.embedding_std - y.embedding_std));
      opt(x.knn_top1_k20, y.knn_top1_k20);
      EXPECT_EQ(x.centres.size(), y.centres.size());
      for (std::size_t k = 0; k < std::min(x.centres.size(), y.centres.size()); ++k)
        for (std::size_t c = 0; c < x.centres[k].centres.size(); ++c) {
          const auto &p = x.centres[k].centres[c], &q = y.centres[k].centres[c];
          d = std::max({d, std::abs(p.x - q.x), std::abs(p.y - q.y), std::abs(p.z - q.z)});
        }
    }
    return d;
  }
  std::int64_t last_id() const {
    Database db(db_, Database::Mode::ReadOnly);
    return db.list_runs().back().id;
  }
  std::int64_t train(const std::string& method, const std::string& batch, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-q", "run", "--method", method, "--epochs", "6", "--set", "points_per_cluster=40",
                                     "--batch-size", batch};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return last_id();
  }
};

// Cross-batch losses (cos-DV's marginal, NT-Xent, VICReg's covariance) and
// SDMI's two encoders; 75 rows split 38 + 37.
TEST_F(ParallelCli, TwoProcessesMatchOneProcessOfTheSameGlobalBatch) {
  for (const auto& [method, batch] : std::vector<std::pair<std::string, std::string>>{
           {"sdmi", "50"}, {"simclr", "50"}, {"vicreg", "75"}}) {
    const auto one = train(method, batch);
    const auto two = train(method, batch, {"--nproc", "2"});
    EXPECT_LT(max_difference(one, two), 1e-3) << method;
    Database db(db_, Database::Mode::ReadOnly);
    const auto d = db.load_run(two);
    EXPECT_EQ(d->run.device, "cpu x2");
    EXPECT_EQ(d->run.status, "finished");
    bool logged = false;
    for (const auto& line : db.load_log(two))
      logged = logged || line.text.find("data-parallel over 2 processes") != std::string::npos;
    EXPECT_TRUE(logged) << method;
  }
  // Only rank 0 writes: one row per run.
  EXPECT_EQ(run_count(), 6u);
}

// Without synchronised batch norm each process normalises its own rows: a
// different computation, and the comparison above would see it.
TEST_F(ParallelCli, PerProcessBatchNormIsADifferentRun) {
  const auto one = train("vicreg", "75");
  const auto two = train("vicreg", "75", {"--nproc", "2", "--no-sync-bn"});
  EXPECT_GT(max_difference(one, two), 1e-2);
}

// Images: each process loads and augments only its rows (per-sample random
// numbers), the evaluation is shared, and the run still matches one process:
// loss, MI, embedding SD and kNN accuracy every epoch; 32 rows split 16 + 16
// and a batch of 25 split 13 + 12.
TEST_F(ParallelCli, ImageRunsOfTwoProcessesMatchOneProcess) {
  const std::string data = (dir_ / "cifar").string();
  ssrl::test::write_cifar10(data, 60, 40);
  for (const std::string batch : {"32", "25"}) {
    const std::vector<std::string> image = {"--dataset", "cifar10", "--encoder", "small-cnn", "--data-dir", data,
                                            "--set", "val_subset=33", "--set", "knn_bank=65", "--set", "proj_hidden=64",
                                            "--set", "proj_dim=32", "--probe-epochs", "1", "--epochs", "2"};
    auto args = [&](std::vector<std::string> extra) {
      std::vector<std::string> a = {"-q", "run", "--method", "simclr", "--batch-size", batch};
      a.insert(a.end(), image.begin(), image.end());
      a.insert(a.end(), extra.begin(), extra.end());
      return a;
    };
    auto r = run(args({}));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto one = last_id();
    r = run(args({"--nproc", "2"}));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto two = last_id();
    EXPECT_LT(max_difference(one, two), 1e-3) << "batch " << batch;
    Database db(db_, Database::Mode::ReadOnly);
    const auto d = db.load_run(two);
    EXPECT_EQ(d->run.status, "finished");
    ASSERT_EQ(d->epochs.size(), 2u);
    EXPECT_TRUE(d->epochs.back().knn_top1_k20.has_value());
  }
}

TEST_F(ParallelCli, BadParallelRequestsAreUsageErrors) {
  auto r = run({"run", "--method", "jmi", "--nproc", "0"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nproc"), std::string::npos) << r.err;
  r = run({"run", "--resume", "1", "--nproc", "2"});
  EXPECT_EQ(r.code, 2);
  r = run({"run", "--method", "jmi", "--batch-size", "3", "--nproc", "2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot be split"), std::string::npos) << r.err;
  // A launcher's variables without a rendezvous address.
  setenv("RANK", "1", 1);
  setenv("WORLD_SIZE", "2", 1);
  r = run({"run", "--method", "jmi"});
  unsetenv("RANK");
  unsetenv("WORLD_SIZE");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("MASTER_ADDR"), std::string::npos) << r.err;
  EXPECT_EQ(run_count(), 0u);
}

}  // namespace
