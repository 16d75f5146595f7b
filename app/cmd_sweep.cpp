// Sweeps: plan, run (in-process or with worker processes claiming runs from
// one database), status, report, Slurm job arrays and merging shards.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/output_file.hpp"
#include "ssrl/methods.hpp"
#include "ssrl/runner/runner.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/storage/report.hpp"
#include "ssrl/sweep.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::app {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long long t = std::llround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
  return buf;
}

// "i/K": shard i of K (0 <= i < K).
std::pair<int, int> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash != std::string::npos) {
      const int i = std::stoi(text.substr(0, slash)), k = std::stoi(text.substr(slash + 1));
      if (k >= 1 && i >= 0 && i < k) return {i, k};
    }
  } catch (const std::exception&) {
  }
  throw ConfigError("shard", "expects i/K with 0 <= i < K, e.g. 3/8 (got '" + text + "')");
}

SweepPlan read_plan(const std::string& file, bool check_machine, const std::vector<std::pair<std::string, std::string>>& settings,
                    unsigned long long max_runs) {
  SweepPlan plan = read_sweep_file(file, check_machine, settings, max_runs);
  for (const auto& n : plan.notes) std::cerr << "note: " << n << "\n";
  return plan;
}

std::vector<storage::NewRun> rows_of(const SweepPlan& plan, int shard, int shards) {
  std::vector<storage::NewRun> rows;
  for (const auto& r : plan.runs) {
    if (r.index % shards != shard) continue;
    auto row = runner::new_run_row(r.config, "sweep:" + plan.name);
    char idx[16];
    std::snprintf(idx, sizeof idx, "%04d", r.index);
    if (r.config.name.empty()) row.name = plan.name + "-" + idx + "-" + r.config.method + "-s" + std::to_string(r.config.seed);
    row.uid = plan.uid + "#" + std::to_string(r.index);
    row.sweep_index = r.index;
    row.sweep_point = r.point.dump();
    rows.push_back(std::move(row));
  }
  return rows;
}

std::int64_t record_sweep(storage::Database& db, const SweepPlan& plan, int shard, int shards) {
  storage::NewSweep s;
  s.uid = plan.uid;
  s.name = plan.name;
  s.spec_json = plan.spec.dump();
  s.axes_json = json(plan.axes).dump();
  s.planned = static_cast<int>(plan.runs.size());
  return db.ensure_sweep(s, rows_of(plan, shard, shards));
}

storage::SweepRow find_sweep_or_throw(const storage::Database& db, const std::string& which) {
  if (which.empty()) {
    const auto all = db.list_sweeps();
    if (all.empty()) throw ConfigError("sweep", "no sweeps in " + db.path());
    return all.back();
  }
  auto s = db.find_sweep(which);
  if (!s) throw ConfigError("sweep", "no sweep with id or name '" + which + "' in " + db.path());
  return *s;
}

double eta_seconds(const storage::SweepRow& s) {
  const int done = s.finished + s.diverged;
  if (done == 0) return NAN;
  // Running runs count by what is left of them; interrupted ones as whole
  // runs (a resume may start over).
  const double left = s.queued + s.interrupted + (s.planned - s.stored) + (s.running - s.running_progress);
  const double per_run = s.finished_wall_seconds / done;
  return per_run * left / std::max(1, s.running);
}

json sweep_json(const storage::SweepRow& s) {
  return {{"id", s.id},          {"uid", s.uid},
          {"name", s.name},      {"planned", s.planned},
          {"stored", s.stored},  {"queued", s.queued},
          {"running", s.running}, {"finished", s.finished},
          {"failed", s.failed},  {"interrupted", s.interrupted},
          {"diverged", s.diverged}, {"created_at", s.created_at},
          {"eta_seconds", std::isfinite(eta_seconds(s)) ? json(eta_seconds(s)) : json(nullptr)}};
}

void print_status(const storage::SweepRow& s) {
  std::printf("sweep %lld '%s': %d planned, %d here — %d finished, %d running, %d queued, %d interrupted, %d failed, %d diverged",
              static_cast<long long>(s.id), s.name.c_str(), s.planned, s.stored, s.finished, s.running, s.queued, s.interrupted,
              s.failed, s.diverged);
  if (s.planned > s.stored) std::printf(", %d in other shards", s.planned - s.stored);
  const double eta = eta_seconds(s);
  if (std::isfinite(eta) && eta > 0) std::printf("; about %s left", duration_text(eta).c_str());
  std::printf("\n");
}

// One worker: claims the sweep's queued runs until none is left or a stop
// is requested. Returns how many runs it trained and how many failed.
std::pair<int, int> work(storage::Database& db, std::int64_t sweep_id, bool quiet) {
  int trained = 0, failed = 0;
  while (!stop_requested()) {
    const auto id = db.claim_run(sweep_id);
    if (!id) break;
    const auto d = db.load_run(*id);
    const auto& row = d->run;
    RunOutcome outcome;
    try {
      runner::Runner runner(db);
      runner::RunOptions options;
      options.stop = stop_flag();
      outcome = runner.run_stored(*id, options);
    } catch (const Error& e) {
      // Refused before training started (damaged data, a missing GPU); the
      // runner stored it as failed.
      outcome.status = RunStatus::Failed;
      outcome.message = e.what();
    }
    ++trained;
    if (outcome.status == RunStatus::Failed) ++failed;
    if (!quiet) {
      const auto done = db.load_run(*id);
      std::fprintf(stderr, "[pid %d] run %lld %s seed %lld: %s after %d epochs (%s)%s%s\n", static_cast<int>(getpid()),
                   static_cast<long long>(*id), point_label(json::parse(row.sweep_point, nullptr, false)).c_str(),
                   static_cast<long long>(row.seed), status_name(outcome.status), outcome.epochs_done,
                   duration_text(done ? done->run.seconds : 0).c_str(), outcome.message.empty() ? "" : ": ",
                   outcome.message.c_str());
    }
  }
  return {trained, failed};
}

// Worker processes, each `ssrl-workbench --db DB sweep work ID`; the parent
// reports progress and passes a stop on to them.
int run_workers(const Global& g, std::int64_t sweep_id, int jobs) {
  const std::string db_path = fs::absolute(g.db_path()).string();
  std::vector<pid_t> children;
  for (int j = 0; j < jobs; ++j) {
    std::vector<std::string> args = {"--db", db_path};
    if (g.quiet) args.push_back("-q");
    for (const char* a : {"sweep", "work"}) args.push_back(a);
    args.push_back(std::to_string(sweep_id));
    // A worker whose parent dies (killed, its terminal gone) stops cleanly
    // after its step, as on Ctrl-C; `sweep run` again continues the sweep.
    const pid_t pid = spawn_self(args, {}, SIGTERM);
    children.push_back(pid);
  }
  bool forwarded = false;
  int failures = 0, interrupted = 0;
  auto last = std::chrono::steady_clock::now();
  while (!children.empty()) {
    int status = 0;
    const pid_t done = waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      children.erase(std::remove(children.begin(), children.end(), done), children.end());
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (code == kInterrupted) ++interrupted;
      else if (code != kOk) ++failures;
      continue;
    }
    if (stop_requested() && !forwarded) {
      for (pid_t c : children) kill(c, SIGTERM);  // each stops after its current step
      forwarded = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!g.quiet && std::chrono::steady_clock::now() - last > std::chrono::seconds(30)) {
      last = std::chrono::steady_clock::now();
      storage::Database db(g.db_path(), storage::Database::Mode::ReadOnly);
      if (const auto s = db.find_sweep(std::to_string(sweep_id))) print_status(*s);
    }
  }
  if (interrupted > 0 || stop_requested()) return kInterrupted;
  return failures > 0 ? kFailure : kOk;
}

}  // namespace

int cmd_sweep_plan(const SweepRequest& req) {
  const SweepPlan plan = read_plan(req.file, false, req.settings, req.max_runs);
  if (req.format == "json") {
    json runs = json::array();
    for (const auto& r : plan.runs)
      runs.push_back({{"index", r.index}, {"method", r.config.method}, {"seed", r.config.seed}, {"point", r.point},
                      {"config", to_json(r.config)}});
    std::cout << json{{"name", plan.name}, {"uid", plan.uid}, {"axes", plan.axes}, {"seeds", plan.seeds}, {"runs", runs}}.dump(2)
              << "\n";
    return kOk;
  }
  if (req.format != "text") throw ConfigError("format", "expects text or json (got '" + req.format + "')");
  std::map<std::string, int> per_method;
  for (const auto& r : plan.runs) ++per_method[r.config.method];
  std::cout << "sweep '" << plan.name << "' (" << plan.uid << "): " << plan.runs.size() << " runs, " << plan.seeds.size()
            << " seed(s) each point\n";
  for (const auto& [m, n] : per_method) std::cout << "  " << m << ": " << n << " runs\n";
  for (const auto& r : plan.runs)
    std::printf("%5d  %-48s seed %lld  (%s, %d epochs)\n", r.index, point_label(r.point).c_str(),
                static_cast<long long>(r.config.seed), r.config.dataset.c_str(), r.config.epochs);
  return kOk;
}

int cmd_sweep_run(const Global& g, const SweepRequest& req) {
  const SweepPlan plan = read_plan(req.file, true, req.settings, req.max_runs);
  for (const auto& r : plan.runs) resolve_device(r.config.device);  // a missing GPU is found before any run
  int shard = 0, shards = 1;
  if (!req.shard.empty()) std::tie(shard, shards) = parse_shard(req.shard);
  if (req.jobs < 0) throw ConfigError("jobs", "must be at least 1");
  const int jobs = req.jobs == 0 ? 1 : req.jobs;
  std::int64_t id = 0;
  {
    storage::Database db(g.db_path());
    db.mark_abandoned_runs();
    id = record_sweep(db, plan, shard, shards);
    // A shard's database belongs to one array task: a run it shows as
    // running was left by an earlier attempt of that task.
    const int requeued = db.requeue_sweep_runs(id, req.retry_failed, shards > 1);
    const auto s = db.find_sweep(std::to_string(id));
    if (!g.quiet) {
      if (requeued > 0) std::fprintf(stderr, "requeued %d unfinished run(s) of an earlier attempt\n", requeued);
      std::fprintf(stderr, "sweep %lld '%s'%s: %d queued, %d finished, %d running elsewhere; %d job(s)\n",
                   static_cast<long long>(id), plan.name.c_str(),
                   shards > 1 ? (" shard " + std::to_string(shard) + "/" + std::to_string(shards)).c_str() : "", s->queued,
                   s->finished, s->running, jobs);
    }
  }
  install_stop_handlers();
  const auto t0 = std::chrono::steady_clock::now();
  int code = kOk;
  if (jobs == 1) {
    storage::Database db(g.db_path());
    const auto [trained, failed] = work(db, id, g.quiet);
    code = stop_requested() ? kInterrupted : failed > 0 ? kFailure : kOk;
  } else {
    code = run_workers(g, id, jobs);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  storage::Database db(g.db_path(), storage::Database::Mode::ReadOnly);
  const auto s = db.find_sweep(std::to_string(id));
  storage::RunFilter f;
  f.sweep_id = id;
  if (!g.quiet) std::cout << storage::render(storage::sweep_best_table(*s, db.list_runs(f)), storage::TableFormat::Text) << "\n";
  print_status(*s);
  std::printf("wall time %s with %d job(s)\n", duration_text(wall).c_str(), jobs);
  if (code == kOk && s->failed > 0) code = kFailure;
  if (code == kInterrupted) std::fprintf(stderr, "interrupted: run the same `sweep run` again to continue\n");
  return code;
}

int cmd_sweep_work(const Global& g, const std::string& sweep) {
  storage::Database db(g.db_path());
  const auto s = find_sweep_or_throw(db, sweep);
  install_stop_handlers();
  const auto [trained, failed] = work(db, s.id, g.quiet);
  if (stop_requested()) return kInterrupted;
  return failed > 0 ? kFailure : kOk;
}

int cmd_sweep_status(const Global& g, const std::string& sweep, const std::string& format) {
  storage::Database db(g.db_path(), storage::Database::Mode::ReadOnly);
  std::vector<storage::SweepRow> rows;
  if (sweep.empty()) rows = db.list_sweeps();
  else rows.push_back(find_sweep_or_throw(db, sweep));
  if (format == "json") {
    json out = json::array();
    for (const auto& s : rows) out.push_back(sweep_json(s));
    std::cout << (sweep.empty() ? out : out[0]).dump(2) << "\n";
    return kOk;
  }
  if (format != "text") throw ConfigError("format", "expects text or json (got '" + format + "')");
  if (rows.empty()) std::cout << "no sweeps in " << db.path() << "\n";
  for (const auto& s : rows) print_status(s);
  return kOk;
}

int cmd_sweep_report(const Global& g, const std::string& sweep, const std::string& format, const std::string& out) {
  storage::Database db(g.db_path(), storage::Database::Mode::ReadOnly);
  const auto s = find_sweep_or_throw(db, sweep);
  const auto fmt = storage::parse_table_format(format);
  storage::RunFilter f;
  f.sweep_id = s.id;
  const auto runs = db.list_runs(f);
  const std::string text = storage::render(storage::sweep_table(s, runs), fmt) + "\n" +
                           storage::render(storage::sweep_best_table(s, runs), fmt);
  if (out.empty()) {
    std::cout << text;
  } else {
    write_output_file(out, text);
    std::cerr << "wrote " << out << "\n";
  }
  return kOk;
}

int cmd_sweep_slurm(const SlurmRequest& req) {
  const SweepPlan plan = read_plan(req.file, false, req.settings, req.max_runs);
  if (req.shards < 1) throw ConfigError("shards", "must be at least 1");
  const int shards = std::min<int>(req.shards, static_cast<int>(plan.runs.size()));
  const fs::path out = fs::absolute(req.out);
  prepare_output_dir(out.string());
  prepare_output_dir((out / "shards").string());
  prepare_output_dir((out / "logs").string());
  std::string exe = req.exe;
  if (exe.empty()) exe = self_exe();
  // The sweep travels with the job: the array runs what was planned here.
  write_output_file((out / "sweep.json").string(), plan.spec.dump(2) + "\n");
  std::ostringstream f;
  f << "#!/bin/bash\n"
    << "# SSRL Workbench sweep '" << plan.name << "': " << plan.runs.size() << " runs in " << shards << " shards.\n"
    << "# Submit with: sbatch " << (out / "sweep.sbatch").string() << "\n"
    << "# then merge:  " << exe << " merge " << (out / "shards").string() << "/shard-*.db --into " << (out / "sweep.db").string()
    << "\n"
    << "#SBATCH --job-name=ssrl-" << plan.name << "\n"
    << "#SBATCH --array=0-" << shards - 1 << "\n"
    << "#SBATCH --ntasks=1\n"
    << "#SBATCH --output=" << (out / "logs").string() << "/%A_%a.out\n";
  if (!req.partition.empty()) f << "#SBATCH --partition=" << req.partition << "\n";
  if (!req.time.empty()) f << "#SBATCH --time=" << req.time << "\n";
  if (req.gpus_per_task > 0) f << "#SBATCH --gpus-per-task=" << req.gpus_per_task << "\n";
  if (req.cpus_per_task > 0) f << "#SBATCH --cpus-per-task=" << req.cpus_per_task << "\n";
  if (!req.mem.empty()) f << "#SBATCH --mem=" << req.mem << "\n";
  if (!req.account.empty()) f << "#SBATCH --account=" << req.account << "\n";
  f << "#SBATCH --signal=B:TERM@120\n"
    << "set -u\n"
    << "WB=" << exe << "\n"
    << "OUT=" << out.string() << "\n"
    << "SHARD=${SLURM_ARRAY_TASK_ID}\n"
    << "FINAL=\"$OUT/shards/shard-$SHARD.db\"\n"
    << "# SQLite must not be shared over a network file system: the shard lives on\n"
    << "# node-local disk while it trains and is copied back when the task ends.\n"
    << "LOCAL_DIR=\"${SLURM_TMPDIR:-${TMPDIR:-/tmp}}/ssrl-${SLURM_ARRAY_JOB_ID}-$SHARD\"\n"
    << "mkdir -p \"$LOCAL_DIR\"\n"
    << "LOCAL=\"$LOCAL_DIR/shard.db\"\n"
    << "[ -f \"$FINAL\" ] && cp \"$FINAL\" \"$LOCAL\"   # a requeued task continues its shard\n"
    << "save() { [ -f \"$LOCAL\" ] && cp \"$LOCAL\" \"$FINAL.part\" && mv \"$FINAL.part\" \"$FINAL\"; }\n"
    << "trap 'kill -TERM $child 2>/dev/null; wait $child; save; exit 143' TERM\n"
    << "export OMP_WAIT_POLICY=passive\n"
    << "\"$WB\" -q --db \"$LOCAL\" sweep run \"$OUT/sweep.json\" --shard \"$SHARD/" << shards << "\" --jobs 1 &\n"
    << "child=$!\n"
    << "wait $child\n"
    << "code=$?\n"
    << "save\n"
    << "exit $code\n";
  write_output_file((out / "sweep.sbatch").string(), f.str(), true);
  std::ostringstream m;
  m << "#!/bin/bash\n# Fold the shards into one database; safe to run again (it adds only what is new).\n"
    << "exec " << exe << " merge \"" << out.string() << "\"/shards/shard-*.db --into \"" << out.string() << "/sweep.db\"\n";
  write_output_file((out / "merge.sh").string(), m.str(), true);
  std::cout << "sweep '" << plan.name << "': " << plan.runs.size() << " runs in " << shards << " array tasks\n"
            << "  submit:  sbatch " << (out / "sweep.sbatch").string() << "\n"
            << "  merge:   " << (out / "merge.sh").string() << "   (then: " << exe << " --db " << (out / "sweep.db").string()
            << " sweep report " << plan.name << ")\n";
  return kOk;
}

int cmd_merge(const std::vector<std::string>& shards, const std::string& into, bool quiet) {
  if (shards.empty()) throw ConfigError("merge", "name at least one shard database");
  if (into.empty()) throw ConfigError("into", "name the database to merge into with --into");
  storage::Database db(into);
  storage::MergeStats total;
  for (const auto& shard : shards) {
    const auto s = db.merge_from(shard);
    if (!quiet)
      std::printf("%s: %d new run(s), %d brought up to date, %d already here; %d new sweep(s)\n", shard.c_str(), s.runs_added,
                  s.runs_replaced, s.runs_present, s.sweeps_added);
    total.runs_added += s.runs_added;
    total.runs_replaced += s.runs_replaced;
    total.runs_present += s.runs_present;
  }
  std::printf("merged %zu database(s) into %s: %d new, %d updated, %d unchanged\n", shards.size(), into.c_str(),
              total.runs_added, total.runs_replaced, total.runs_present);
  for (const auto& s : db.list_sweeps()) print_status(s);
  return kOk;
}

}  // namespace ssrl::app
