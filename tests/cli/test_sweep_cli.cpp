// Sweeps from the command line: plan, run, interrupt and continue, worker
// processes, reports, and the Slurm array script run by hand, then merged.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"
#include "ssrl/storage/database.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ssrl::storage::Database;

class SweepCli : public wb_test::Cli {
 protected:
  // Eight small Gaussian runs: two methods x two learning rates x two seeds.
  std::string write_sweep(int epochs = 40, const std::string& name = "small") {
    const auto file = dir_ / (name + ".json");
    std::ofstream(file) << json{{"name", name},
                                {"methods", {"jmi", "simclr"}},
                                {"base", {{"dataset", "gaussian"}, {"epochs", epochs}, {"points_per_cluster", 40}, {"batch_size", 50}}},
                                {"axes", {{"lr", {0.1, 0.5}}}},
                                {"seeds", {0, 1}}}
                                .dump();
    return file.string();
  }

  std::vector<ssrl::storage::RunRow> runs(const std::string& db = "") const {
    Database d(db.empty() ? db_ : db, Database::Mode::ReadOnly);
    return d.list_runs();
  }

  // How many times each run was claimed, from the run logs.
  std::map<std::int64_t, int> claims(const std::string& db = "") const {
    Database d(db.empty() ? db_ : db, Database::Mode::ReadOnly);
    std::map<std::int64_t, int> out;
    for (const auto& r : d.list_runs()) {
      out[r.id] = 0;
      for (const auto& line : d.load_log(r.id))
        if (line.text.rfind("claimed by pid", 0) == 0) ++out[r.id];
    }
    return out;
  }
};

TEST_F(SweepCli, PlanListsTheRunsWithoutTouchingTheDatabase) {
  const auto file = write_sweep();
  auto r = run({"sweep", "plan", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("8 runs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("simclr lr=0.5"), std::string::npos) << r.out;
  r = run({"sweep", "plan", file, "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto plan = json::parse(r.out);
  EXPECT_EQ(plan["runs"].size(), 8u);
  EXPECT_EQ(plan["runs"][3]["config"]["lr"], 0.5);
  EXPECT_FALSE(fs::exists(db_));
  r = run({"sweep", "plan", "paper/cifar10"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("barlow-twins"), std::string::npos);
}

TEST_F(SweepCli, BadSweepFilesAreUsageErrorsAndStoreNothing) {
  std::ofstream(dir_ / "bad.json") << R"({"name": "bad", "methods": ["sdmi", "dinov9"], "base": {"dataset": "gaussian"}})";
  auto r = run({"sweep", "run", (dir_ / "bad.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("dinov9"), std::string::npos) << r.err;
  std::ofstream(dir_ / "neg.json") << R"({"name": "neg", "method": "jmi", "base": {"dataset": "gaussian"}, "axes": {"lr": [0.1, -1]}})";
  r = run({"sweep", "run", (dir_ / "neg.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("lr=-1"), std::string::npos) << r.err;
  std::ofstream(dir_ / "broken.json") << R"({"name": "broken", )";
  r = run({"sweep", "run", (dir_ / "broken.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("broken.json"), std::string::npos) << r.err;
  EXPECT_EQ(run({"sweep", "run", "no/such-sweep"}).code, 2);
  EXPECT_EQ(run_count(), 0u);
}

// Interrupted part-way, then run again: every run finishes, and none that
// had finished is trained a second time.
TEST_F(SweepCli, InterruptedSweepContinuesWithExactlyTheUnfinishedRuns) {
  const int epochs = 100;
  const auto file = write_sweep(epochs);
  const pid_t pid = start({"sweep", "run", file});
  // Two runs finished and the third part-way (an epoch stored, at most half
  // of them): the interrupt lands inside a run, never between two or after
  // the last.
  const auto [at_signal, status] = interrupt_when(pid, [](const Runs& rows) {
    int finished = 0;
    bool inside = false;
    for (const auto& r : rows) {
      finished += r.status == "finished";
      inside = inside || (r.status == "running" && r.epochs_done >= 1 && r.epochs_done <= r.epochs_planned / 2);
    }
    return finished >= 2 && inside;
  }, 120000);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::map<std::int64_t, std::string> first_start;
  int interrupted = 0;
  std::map<std::int64_t, std::string> status_of;
  for (const auto& r : runs()) {
    if (r.status == "finished") first_start[r.id] = r.started_at;
    if (r.status == "interrupted") ++interrupted;
    status_of[r.id] = r.status;
  }
  EXPECT_EQ(interrupted, 1);
  for (const auto& r : at_signal)  // the run the signal found part-way is the one interrupted
    if (r.status == "running") {
      EXPECT_EQ(status_of[r.id], "interrupted") << r.name;
    }
  auto st = run({"sweep", "status", "small", "--format", "json"});
  ASSERT_EQ(st.code, 0) << st.err;
  EXPECT_EQ(json::parse(st.out)["interrupted"], 1);

  const auto again = run({"sweep", "run", file});
  ASSERT_EQ(again.code, 0) << again.err;
  const auto all = runs();
  ASSERT_EQ(all.size(), 8u);
  for (const auto& r : all) {
    EXPECT_EQ(r.status, "finished") << r.name;
    EXPECT_EQ(r.epochs_done, epochs) << r.name;
    if (first_start.count(r.id)) {
      EXPECT_EQ(r.started_at, first_start[r.id]) << r.name << " ran twice";
    }
  }
  for (const auto& [id, n] : claims()) EXPECT_EQ(n, first_start.count(id) ? 1 : n) << id;
  // A third time there is nothing left to do.
  const auto third = run({"sweep", "run", file});
  EXPECT_EQ(third.code, 0) << third.err;
  for (const auto& [id, n] : claims()) EXPECT_LE(n, 2) << id;
  EXPECT_EQ(runs().size(), 8u);
}

TEST_F(SweepCli, WorkerProcessesShareOneQueue) {
  const auto file = write_sweep(150);
  const auto r = run({"sweep", "run", file, "--jobs", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("with 2 job(s)"), std::string::npos) << r.out;
  std::set<std::string> workers;
  Database d(db_, Database::Mode::ReadOnly);
  for (const auto& row : d.list_runs()) {
    EXPECT_EQ(row.status, "finished");
    for (const auto& line : d.load_log(row.id))
      if (line.text.rfind("claimed by pid", 0) == 0) workers.insert(line.text);
  }
  EXPECT_EQ(d.list_runs().size(), 8u);
  for (const auto& [id, n] : claims()) EXPECT_EQ(n, 1) << id;
  std::set<std::string> pids;
  for (const auto& w : workers) pids.insert(w.substr(0, w.find(" on ")));
  EXPECT_EQ(pids.size(), 2u);
}

TEST_F(SweepCli, ReportGivesTheGridAndTheBestPointInEveryFormat) {
  const auto file = write_sweep(30);
  ASSERT_EQ(run({"-q", "sweep", "run", file}).code, 0);
  auto r = run({"sweep", "report", "small", "--format", "csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("lr"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("simclr"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2/2"), std::string::npos) << r.out;  // both seeds of each point
  r = run({"export", "table", "--sweep", "small", "--format", "latex"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\\begin{tabular}"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\pm"), std::string::npos) << r.out;
  r = run({"sweep", "report", "small", "--format", "markdown", "--out", (dir_ / "report.md").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(wb_test::slurp(dir_ / "report.md").find("| jmi"), std::string::npos);
  EXPECT_EQ(run({"sweep", "report", "nope"}).code, 2);
}

// The job array without Slurm: each task is the script with the variables
// Slurm would set. Then merge, twice.
TEST_F(SweepCli, SlurmArrayScriptRunsShardsThatMergeIdempotently) {
  const auto file = write_sweep(20);
  const auto out = dir_ / "slurm";
  auto r = run({"sweep", "slurm", file, "--out", out.string(), "--shards", "3", "--partition", "gpu", "--time", "01:00:00",
                "--gpus-per-task", "1", "--cpus-per-task", "4"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string script = wb_test::slurp(out / "sweep.sbatch");
  for (const char* line : {"#SBATCH --array=0-2", "#SBATCH --partition=gpu", "#SBATCH --time=01:00:00",
                           "#SBATCH --gpus-per-task=1", "#SBATCH --cpus-per-task=4"})
    EXPECT_NE(script.find(line), std::string::npos) << line << "\n" << script;
  for (int task = 0; task < 3; ++task) {
    const std::string cmd = "env SLURM_ARRAY_TASK_ID=" + std::to_string(task) + " SLURM_ARRAY_JOB_ID=77 TMPDIR=" +
                            (dir_ / "node").string() + " bash " + (out / "sweep.sbatch").string() + " > " +
                            (dir_ / ("task" + std::to_string(task) + ".log")).string() + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << wb_test::slurp(dir_ / ("task" + std::to_string(task) + ".log"));
  }
  std::vector<std::string> shards;
  std::size_t total = 0;
  for (int task = 0; task < 3; ++task) {
    shards.push_back((out / "shards" / ("shard-" + std::to_string(task) + ".db")).string());
    ASSERT_TRUE(fs::exists(shards.back()));
    total += runs(shards.back()).size();
  }
  EXPECT_EQ(total, 8u);
  const std::string main_db = (dir_ / "main.db").string();
  std::vector<std::string> args = {"merge"};
  args.insert(args.end(), shards.begin(), shards.end());
  args.insert(args.end(), {"--into", main_db});
  r = run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("8 new"), std::string::npos) << r.out;
  r = run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0 new, 0 updated, 8 unchanged"), std::string::npos) << r.out;
  const auto merged = runs(main_db);
  ASSERT_EQ(merged.size(), 8u);
  for (const auto& m : merged) {
    EXPECT_EQ(m.status, "finished");
    EXPECT_EQ(m.epochs_done, 20);
    EXPECT_TRUE(m.last_mi.cos_dv.has_value());
  }
  r = run({"sweep", "status", "small", "--format", "json"}, main_db);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["finished"], 8);
  // merge.sh does the same.
  EXPECT_EQ(std::system(("bash " + (out / "merge.sh").string() + " > /dev/null").c_str()), 0);
  EXPECT_EQ(runs((out / "sweep.db").string()).size(), 8u);
  EXPECT_EQ(run({"merge", (dir_ / "missing.db").string(), "--into", main_db}).code, 1);
  EXPECT_EQ(runs(main_db).size(), 8u);
}

}  // namespace
