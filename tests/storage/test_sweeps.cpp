// Sweeps in the database: recording a plan twice, claiming runs from
// several processes, requeueing after a crash, and merging shard files.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "database_impl.hpp"
#include "sqlite.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/storage/database.hpp"
#include "support/temp_dir.hpp"

namespace ssrl::storage {
namespace {

namespace fs = std::filesystem;

class SweepDbTest : public wb_test::TempDirTest {};

NewSweep sweep_spec(const std::string& uid = "demo-0123456789abcdef", int planned = 6) {
  NewSweep s;
  s.uid = uid;
  s.name = "demo";
  s.spec_json = R"({"name":"demo"})";
  s.axes_json = R"(["lr"])";
  s.planned = planned;
  return s;
}

// The runs of shard `shard` of `shards` (index % shards == shard), as
// `sweep run --shard` records them.
std::vector<NewRun> sweep_runs(const std::string& sweep_uid, int planned, int shard = 0, int shards = 1) {
  std::vector<NewRun> out;
  for (int i = 0; i < planned; ++i) {
    if (i % shards != shard) continue;
    NewRun r;
    r.name = "demo-" + std::to_string(i);
    r.method = "jmi";
    r.base_method = "jmi";
    r.paradigm = "JMI";
    r.dataset = "gaussian";
    r.config_json = R"({"method":"jmi","epochs":2})";
    r.seed = i % 2;
    r.epochs_planned = 2;
    r.tag = "sweep:demo";
    r.program_version = "test";
    r.uid = sweep_uid + "#" + std::to_string(i);
    r.sweep_index = i;
    r.sweep_point = R"({"method":"jmi","lr":)" + std::to_string(0.1 * (1 + i / 2)) + "}";
    out.push_back(r);
  }
  return out;
}

EpochRecord epoch(int k) {
  EpochRecord e;
  e.epoch = k;
  e.loss = -0.5 * k;
  e.mi.cos_dv = 0.2 * k;
  e.mi.infonce = 0.1 * k;
  e.mi.jsd = -1.0;
  e.embedding_std = 0.4;
  e.effective_rank = 2.0;
  e.lr = 0.1;
  e.seconds = 0.01;
  e.centres = {{"f", {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {-1, 0, 0}, {0, -1, 0}}}};
  e.collapse = {{"f", 0.4, 2.0, 0.3, 20.0, std::nullopt}};
  return e;
}

// Claims and trains (two epochs, a final) one run the way a worker does.
std::optional<std::int64_t> claim_and_finish(Database& db, std::int64_t sweep) {
  const auto id = db.claim_run(sweep);
  if (!id) return id;
  db.append_epoch(*id, epoch(1));
  db.append_epoch(*id, epoch(2));
  RunOutcome out;
  out.epochs_done = 2;
  EncoderFinal f;
  f.encoder = "f";
  f.separation = {70.0, 65.0, 75.0, 3.0};
  out.finals.push_back(f);
  db.finish_run(*id, out);
  return id;
}

TEST_F(SweepDbTest, RecordingAPlanAgainAddsOnlyWhatIsMissing) {
  Database db(path("w.db"));
  const auto runs = sweep_runs("demo-0123456789abcdef", 6);
  const auto first = std::vector<NewRun>(runs.begin(), runs.begin() + 4);
  const auto id = db.ensure_sweep(sweep_spec(), first);
  EXPECT_EQ(db.find_sweep("demo")->stored, 4);
  EXPECT_EQ(db.ensure_sweep(sweep_spec(), runs), id);
  auto s = db.find_sweep(std::to_string(id));
  EXPECT_EQ(s->stored, 6);
  EXPECT_EQ(s->queued, 6);
  EXPECT_EQ(db.ensure_sweep(sweep_spec(), runs), id);
  EXPECT_EQ(db.find_sweep("demo")->stored, 6);
  // Another plan of the same name is another sweep; by name the newest wins.
  const auto other = db.ensure_sweep(sweep_spec("demo-fedcba9876543210"), sweep_runs("demo-fedcba9876543210", 2));
  EXPECT_NE(other, id);
  EXPECT_EQ(db.find_sweep("demo")->id, other);
  EXPECT_EQ(db.list_sweeps().size(), 2u);
  EXPECT_FALSE(db.find_sweep("nope").has_value());
}

TEST_F(SweepDbTest, ClaimsGoInPlanOrderAndEndWhenTheQueueIsEmpty) {
  Database db(path("w.db"));
  const auto id = db.ensure_sweep(sweep_spec(), sweep_runs("demo-0123456789abcdef", 3));
  std::vector<int> order;
  while (const auto run = db.claim_run(id)) {
    const auto d = db.load_run(*run);
    EXPECT_EQ(d->run.status, "running");
    order.push_back(d->run.sweep_index);
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(db.find_sweep("demo")->running, 3);
}

// What `sweep status` estimates the time left from: finished wall time, and
// how far the running runs are (1 of 2 epochs, 0 of 2).
TEST_F(SweepDbTest, StatusCountsHowFarTheRunningRunsAre) {
  Database db(path("w.db"));
  const auto id = db.ensure_sweep(sweep_spec(), sweep_runs("demo-0123456789abcdef", 4));
  ASSERT_TRUE(claim_and_finish(db, id));
  const auto half = db.claim_run(id);
  db.append_epoch(*half, epoch(1));
  ASSERT_TRUE(db.claim_run(id));
  const auto s = db.find_sweep("demo");
  EXPECT_EQ(s->running, 2);
  EXPECT_EQ(s->finished, 1);
  EXPECT_DOUBLE_EQ(s->running_progress, 0.5);
  EXPECT_GE(s->finished_wall_seconds, 0.0);
}

// Four processes claim from one file at once: every run is taken exactly once.
TEST_F(SweepDbTest, ConcurrentWorkersNeverClaimARunTwice) {
  const int planned = 40;
  std::int64_t sweep = 0;
  {
    Database db(path("w.db"));
    sweep = db.ensure_sweep(sweep_spec("demo-0123456789abcdef", planned), sweep_runs("demo-0123456789abcdef", planned));
  }
  std::vector<pid_t> kids;
  for (int w = 0; w < 4; ++w) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        Database db(path("w.db"));
        std::ofstream out(path("claims-" + std::to_string(w)));
        while (const auto id = claim_and_finish(db, sweep)) out << *id << "\n";
      } catch (const std::exception& e) {
        std::fprintf(stderr, "worker %d: %s\n", w, e.what());
        code = 1;
      }
      _exit(code);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    waitpid(k, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::multiset<std::int64_t> claimed;
  for (int w = 0; w < 4; ++w) {
    std::ifstream in(path("claims-" + std::to_string(w)));
    for (std::int64_t id; in >> id;) claimed.insert(id);
  }
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(planned));
  EXPECT_EQ(std::set<std::int64_t>(claimed.begin(), claimed.end()).size(), static_cast<std::size_t>(planned));
  Database db(path("w.db"), Database::Mode::ReadOnly);
  const auto s = db.find_sweep("demo");
  EXPECT_EQ(s->finished, planned);
  EXPECT_EQ(s->queued + s->running, 0);
}

TEST_F(SweepDbTest, RequeueTakesBackInterruptedRunsAndOnlyWhatIsAsked) {
  Database db(path("w.db"));
  const auto sweep = db.ensure_sweep(sweep_spec(), sweep_runs("demo-0123456789abcdef", 4));
  const auto done = claim_and_finish(db, sweep);
  const auto cut = db.claim_run(sweep);  // interrupted after one epoch, no checkpoint
  db.append_epoch(*cut, epoch(1));
  RunOutcome stopped;
  stopped.status = RunStatus::Interrupted;
  stopped.epochs_done = 1;
  db.finish_run(*cut, stopped);
  const auto bad = db.claim_run(sweep);
  RunOutcome failed;
  failed.status = RunStatus::Failed;
  failed.message = "data file truncated";
  db.finish_run(*bad, failed);
  const auto stuck = db.claim_run(sweep);  // its process died: still 'running'
  ASSERT_TRUE(done && cut && bad && stuck);

  EXPECT_EQ(db.requeue_sweep_runs(sweep, false, false), 1);
  EXPECT_EQ(db.load_run(*cut)->run.status, "queued");
  EXPECT_TRUE(db.load_epochs(*cut, false).empty());  // no checkpoint: starts again
  EXPECT_EQ(db.load_run(*bad)->run.status, "failed");
  EXPECT_EQ(db.load_run(*stuck)->run.status, "running");
  EXPECT_EQ(db.requeue_sweep_runs(sweep, true, true), 2);
  EXPECT_EQ(db.load_run(*bad)->run.status, "queued");
  EXPECT_EQ(db.load_run(*stuck)->run.status, "queued");
  EXPECT_EQ(db.load_run(*done)->run.status, "finished");
  EXPECT_EQ(db.load_epochs(*done, false).size(), 2u);
}

TEST_F(SweepDbTest, RequeueKeepsTheEpochsACheckpointHolds) {
  Database db(path("w.db"));
  const auto sweep = db.ensure_sweep(sweep_spec(), sweep_runs("demo-0123456789abcdef", 1));
  const auto id = db.claim_run(sweep);
  for (int k = 1; k <= 3; ++k) db.append_epoch(*id, epoch(k));
  db.set_checkpoint(*id, 2, path("ckpt-2.pt"));
  RunOutcome stopped;
  stopped.status = RunStatus::Interrupted;
  stopped.epochs_done = 3;
  db.finish_run(*id, stopped);
  EXPECT_EQ(db.requeue_sweep_runs(sweep, false, false), 1);
  const auto d = db.load_run(*id);
  EXPECT_EQ(d->run.status, "queued");
  EXPECT_EQ(d->run.checkpoint_epoch, 2);
  EXPECT_EQ(db.load_epochs(*id, false).size(), 2u);  // epoch 3 came after the checkpoint
}

TEST_F(SweepDbTest, MergingShardsBringsEveryRunOnceAndTwiceAddsNothing) {
  const std::string uid = "demo-0123456789abcdef";
  for (int shard = 0; shard < 2; ++shard) {
    Database db(path("shard-" + std::to_string(shard) + ".db"));
    const auto sweep = db.ensure_sweep(sweep_spec(uid, 6), sweep_runs(uid, 6, shard, 2));
    while (claim_and_finish(db, sweep)) {
    }
    db.append_log(db.list_runs()[0].id, "info", "note in shard " + std::to_string(shard));
  }
  {
    // A run outside any sweep travels too.
    Database db(path("shard-1.db"));
    auto lone = sweep_runs("lone", 1)[0];
    lone.uid = "";
    lone.sweep_index = 0;
    lone.name = "lone";
    db.create_run(lone);
  }
  Database main(path("main.db"));
  const auto a = main.merge_from(path("shard-0.db"));
  EXPECT_EQ(a.sweeps_added, 1);
  EXPECT_EQ(a.runs_added, 3);
  const auto b = main.merge_from(path("shard-1.db"));
  EXPECT_EQ(b.sweeps_added, 0);
  EXPECT_EQ(b.runs_added, 4);
  auto s = main.find_sweep("demo");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->planned, 6);
  EXPECT_EQ(s->stored, 6);
  EXPECT_EQ(s->finished, 6);
  RunFilter f;
  f.sweep_id = s->id;
  std::set<int> indices;
  for (const auto& r : main.list_runs(f)) {
    indices.insert(r.sweep_index);
    const auto d = main.load_run(r.id);
    ASSERT_EQ(d->epochs.size(), 2u) << r.name;
    EXPECT_DOUBLE_EQ(*d->epochs[1].mi.cos_dv, 0.4);
    ASSERT_EQ(d->epochs[1].centres.size(), 1u);
    EXPECT_EQ(d->epochs[1].centres[0].centres.size(), 5u);
    ASSERT_EQ(d->finals.size(), 1u);
    EXPECT_DOUBLE_EQ(d->finals[0].separation.min, 65.0);
  }
  EXPECT_EQ(indices, (std::set<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(main.list_runs().size(), 7u);
  EXPECT_EQ(main.load_log(main.list_runs(f)[0].id).back().text, "note in shard 0");

  const auto again = main.merge_from(path("shard-0.db"));
  EXPECT_EQ(again.runs_added + again.runs_replaced, 0);
  EXPECT_EQ(again.runs_present, 3);
  main.merge_from(path("shard-1.db"));
  EXPECT_EQ(main.list_runs().size(), 7u);
  EXPECT_EQ(main.list_sweeps().size(), 1u);
}

TEST_F(SweepDbTest, ARunStillRunningInAShardArrivesInterruptedThenFinishedByALaterMerge) {
  const std::string uid = "demo-0123456789abcdef";
  std::int64_t run = 0, sweep = 0;
  {
    Database shard(path("shard.db"));
    sweep = shard.ensure_sweep(sweep_spec(uid, 1), sweep_runs(uid, 1));
    run = *shard.claim_run(sweep);
    shard.append_epoch(run, epoch(1));
  }
  Database main(path("main.db"));
  EXPECT_EQ(main.merge_from(path("shard.db")).runs_added, 1);
  EXPECT_EQ(main.list_runs()[0].status, "interrupted");
  {
    Database shard(path("shard.db"));
    shard.append_epoch(run, epoch(2));
    RunOutcome out;
    out.epochs_done = 2;
    shard.finish_run(run, out);
  }
  const auto later = main.merge_from(path("shard.db"));
  EXPECT_EQ(later.runs_replaced, 1);
  ASSERT_EQ(main.list_runs().size(), 1u);
  EXPECT_EQ(main.list_runs()[0].status, "finished");
  EXPECT_EQ(main.list_runs()[0].epochs_done, 2);
  EXPECT_EQ(main.find_sweep("demo")->finished, 1);
}

TEST_F(SweepDbTest, MergeRefusesItselfAndForeignFilesAndKeepsItsRuns) {
  Database main(path("main.db"));
  main.ensure_sweep(sweep_spec(), sweep_runs("demo-0123456789abcdef", 2));
  EXPECT_THROW(main.merge_from(path("main.db")), StorageError);
  {
    std::ofstream junk(path("junk.db"));
    junk << "not a database at all, just some text that is long enough to be a header........";
  }
  EXPECT_THROW(main.merge_from(path("junk.db")), StorageError);
  EXPECT_THROW(main.merge_from(path("missing.db")), StorageError);
  EXPECT_FALSE(fs::exists(path("missing.db")));
  EXPECT_EQ(main.list_runs().size(), 2u);
}

// A merged run arrives with its rows in every per-run table, under this
// database's run id.
TEST_F(SweepDbTest, MergeCopiesARunsRowsFromEveryRunTable) {
  std::int64_t in_shard = 0;
  {
    Database shard(path("shard.db"));
    NewRun r = sweep_runs("x", 1)[0];
    r.uid = "";
    in_shard = shard.create_run(r);
    shard.mark_running(in_shard, "cpu");
    shard.append_epoch(in_shard, epoch(1));
    shard.append_epoch(in_shard, epoch(2));
    RunOutcome out;
    out.epochs_done = 2;
    out.finals = {{"f", {90, 80, 100, 5}, {}}};
    out.probes = {{"f", 0.75, 3, 200, 100}};
    shard.finish_run(in_shard, out);
  }
  Database main(path("main.db"));
  main.create_run(sweep_runs("y", 1)[0]);  // takes id 1: the merged run's id differs
  EXPECT_EQ(main.merge_from(path("shard.db")).runs_added, 1);
  const auto merged = main.list_runs().back();
  ASSERT_NE(merged.id, in_shard);
  Database shard(path("shard.db"), Database::Mode::ReadOnly);
  const auto rows = [](const Database& db, const RunTable& t, std::int64_t id) {
    Statement st(db.handle(), std::string("SELECT COUNT(*) AS n FROM ") + t.name + " WHERE " + t.run_column + " = ?");
    st.bind(1, id);
    st.step();
    return st.row().integer("n");
  };
  for (const auto& t : kRunTables) {
    EXPECT_GT(rows(shard, t, in_shard), 0) << t.name;
    EXPECT_EQ(rows(main, t, merged.id), rows(shard, t, in_shard)) << t.name;
  }
  const auto a = shard.load_run(in_shard), b = main.load_run(merged.id);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(b->run.probes.size(), 1u);
  EXPECT_DOUBLE_EQ(b->run.probes[0].top1, 0.75);
  EXPECT_EQ(b->run.probes[0].train_size, 200);
  ASSERT_EQ(b->epochs.size(), a->epochs.size());
  EXPECT_EQ(b->epochs[1].centres.size(), a->epochs[1].centres.size());
  ASSERT_EQ(b->finals.size(), 1u);
  EXPECT_DOUBLE_EQ(b->finals[0].separation.min, 80);
  const auto la = shard.load_log(in_shard), lb = main.load_log(merged.id);
  ASSERT_EQ(lb.size(), la.size());
  for (std::size_t i = 0; i < la.size(); ++i) {
    EXPECT_EQ(lb[i].at, la[i].at);
    EXPECT_EQ(lb[i].text, la[i].text);
  }
}

}  // namespace
}  // namespace ssrl::storage
