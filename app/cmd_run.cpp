// `run` and `reproduce gaussian`.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "progress.hpp"
#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/storage/recorder.hpp"
#include "ssrl/storage/report.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::app {
namespace {

StopFlag g_stop;
volatile std::sig_atomic_t g_signals = 0;

extern "C" void on_stop_signal(int sig) {
  // One stop often arrives twice at once (a terminal's Ctrl-C reaches the
  // whole process group, `timeout` and Slurm signal the group too): only a
  // repeat a second later means "quit at once".
  static timespec first{};
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (g_signals > 0 && now.tv_sec - first.tv_sec + (now.tv_nsec - first.tv_nsec) * 1e-9 < 1.0) return;
  if (g_signals == 0) first = now;
  g_signals = g_signals + 1;
  if (g_signals > 1) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop.requested.store(true);
  static const char msg[] = "\nstopping after the current step (press Ctrl-C again to quit at once)\n";
  (void)!write(2, msg, sizeof msg - 1);
}

std::string utc_stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string fmt(const std::optional<double>& v, int decimals = 4) {
  if (!v) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

int env_int(const char* name, const std::string& text) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw ConfigError(name, std::string("environment variable ") + name + " must be an integer (got '" + text + "')");
}

// This process's place in a data-parallel run, from the environment: ours
// (set by `run --nproc`), a torchrun-style launcher's, or srun's.
std::optional<DataParallel> parallel_role() {
  DataParallel p;
  const char* rank_var = nullptr;
  const char* world_var = nullptr;
  if (!env("SSRL_RANK").empty()) {
    rank_var = "SSRL_RANK", world_var = "SSRL_WORLD_SIZE";
  } else if (!env("RANK").empty() && !env("WORLD_SIZE").empty()) {
    rank_var = "RANK", world_var = "WORLD_SIZE";
  } else if (!env("SLURM_PROCID").empty() && !env("SLURM_STEP_NUM_TASKS").empty() &&
             env_int("SLURM_STEP_NUM_TASKS", env("SLURM_STEP_NUM_TASKS")) > 1) {
    rank_var = "SLURM_PROCID", world_var = "SLURM_STEP_NUM_TASKS";
  } else {
    return std::nullopt;
  }
  p.rank = env_int(rank_var, env(rank_var));
  p.world = env_int(world_var, env(world_var));
  if (p.world < 2) return std::nullopt;
  const std::string addr = !env("SSRL_MASTER_ADDR").empty() ? env("SSRL_MASTER_ADDR") : env("MASTER_ADDR");
  const std::string port = !env("SSRL_MASTER_PORT").empty() ? env("SSRL_MASTER_PORT") : env("MASTER_PORT");
  if (addr.empty() || port.empty())
    throw ConfigError("MASTER_ADDR", std::string(rank_var) + " and " + world_var +
                                         " say this is one of several processes; set MASTER_ADDR and MASTER_PORT to the first "
                                         "process's host and a free port");
  p.master_addr = addr;
  p.master_port = env_int("MASTER_PORT", port);
  return p;
}

// A free TCP port on the loopback for the rendezvous.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    throw Error(std::string("cannot find a free port for the data-parallel rendezvous: ") + std::strerror(errno));
  }
  close(fd);
  return ntohs(a.sin_port);
}

// Ranks 1..n-1 of `run --nproc n`: this program again, same arguments, the
// role in the environment. They die with the parent.
std::vector<pid_t> start_ranks(int n, int port) {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  if (args.empty()) throw Error("cannot read this program's arguments to start the other processes");
  args.erase(args.begin());
  std::vector<pid_t> pids;
  for (int r = 1; r < n; ++r)
    pids.push_back(spawn_self(args,
                              {{"SSRL_RANK", std::to_string(r)},
                               {"SSRL_WORLD_SIZE", std::to_string(n)},
                               {"SSRL_MASTER_ADDR", "127.0.0.1"},
                               {"SSRL_MASTER_PORT", std::to_string(port)}},
                              true));
  return pids;
}

// Watches the other ranks while rank 0 trains: one that dies leaves the
// rest blocked in a collective, so the whole run ends at once.
class RankWatch {
 public:
  explicit RankWatch(std::vector<pid_t> pids) : pids_(std::move(pids)), thread_([this] { watch(); }) {}
  ~RankWatch() {
    done_ = true;
    thread_.join();
  }
  // Waits for every rank; true when all exited cleanly (0 or interrupted).
  bool join() {
    done_ = true;
    thread_.join();
    thread_ = std::thread([] {});
    bool ok = failed_ == 0;
    for (pid_t p : pids_) {
      if (p <= 0) continue;
      int status = 0;
      waitpid(p, &status, 0);
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (code != kOk && code != kInterrupted) ok = false;
    }
    return ok;
  }

 private:
  void watch() {
    while (!done_) {
      for (std::size_t i = 0; i < pids_.size(); ++i) {
        if (pids_[i] <= 0) continue;
        int status = 0;
        if (waitpid(pids_[i], &status, WNOHANG) != pids_[i]) continue;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pids_[i] = -1;
        if (code == kOk || code == kInterrupted) continue;
        ++failed_;
        std::fprintf(stderr, "error: data-parallel rank %zu exited with code %d; stopping the run\n", i + 1, code);
        for (pid_t p : pids_)
          if (p > 0) kill(p, SIGKILL);
        _exit(kFailure);  // rank 0 is blocked in a collective; the run shows as interrupted
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::vector<pid_t> pids_;
  std::atomic<bool> done_{false};
  std::atomic<int> failed_{0};
  std::thread thread_;
};

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_stop.requested.load(); }

const StopFlag* stop_flag() { return &g_stop; }

RunConfig assemble_config(const RunRequest& req) {
  nlohmann::json file;
  if (!req.config_file.empty()) file = read_config_file(req.config_file);
  ConfigSources sources;
  sources.method = req.method;
  sources.preset = req.preset;
  if (!req.config_file.empty()) {
    sources.object = &file;
    sources.object_origin = req.config_file;
  }
  sources.settings = req.settings;
  return assemble_config(sources);
}

namespace {

int report(const storage::Database& db, std::int64_t id, const std::string& name, const RunConfig& cfg,
           const RunOutcome& outcome) {
  std::cout << "run " << id << " '" << name << "': " << status_name(outcome.status);
  if (!outcome.message.empty()) std::cout << " (" << outcome.message << ")";
  std::cout << ", " << outcome.epochs_done << "/" << cfg.epochs << " epochs, database " << db.path() << "\n";
  if (const auto d = db.load_run(id); d && !d->epochs.empty()) {
    const auto& last = d->epochs.back();
    std::cout << "final MI  cos-DV " << fmt(last.mi.cos_dv) << "  InfoNCE " << fmt(last.mi.infonce) << "  JSD "
              << fmt(last.mi.jsd);
    if (last.knn_top1_k20) std::cout << "   kNN top-1 (k=20) " << fmt(*last.knn_top1_k20 * 100, 1) << "%";
    std::cout << "\n";
  }
  for (const auto& f : outcome.finals)
    std::printf("encoder %s: nearest-neighbour angle mean %.1f°, min %.1f°, max %.1f°, SD %.1f° (optimum min %.0f°)\n",
                f.encoder.c_str(), f.separation.mean, f.separation.min, f.separation.max, f.separation.sd,
                kOptimalMinSeparationDeg);
  for (const auto& p : outcome.probes)
    std::printf("encoder %s: linear probe top-1 %.2f%% (%lld training, %lld test images, %d epochs)\n", p.encoder.c_str(),
                100.0 * p.top1, static_cast<long long>(p.train_size), static_cast<long long>(p.test_size), p.epochs);
  if (!outcome.checkpoint.empty()) std::cout << "checkpoint " << outcome.checkpoint << "\n";
  switch (outcome.status) {
    case RunStatus::Finished: return kOk;
    case RunStatus::Interrupted:
      std::cerr << "interrupted: continue with  ssrl-workbench run --resume " << id << "\n";
      return kInterrupted;
    default:
      std::cerr << "error: run " << id << " " << status_name(outcome.status) << ": " << outcome.message << "\n";
      return kFailure;
  }
}

int resume_run(const Global& g, const RunRequest& req) {
  if (!req.method.empty() || !req.preset.empty() || !req.config_file.empty() || !req.settings.empty())
    throw ConfigError("resume", "--resume continues a run with its stored settings; give no other settings");
  storage::Database db(g.db_path());
  db.mark_abandoned_runs();
  const auto d = db.load_run(req.resume);
  if (!d) throw ConfigError("resume", "no run with id or name '" + req.resume + "' in " + db.path());
  const auto& r = d->run;
  if (r.status != "interrupted" && r.status != "failed")
    throw ConfigError("resume", "run " + std::to_string(r.id) + " is " + r.status + "; only interrupted or failed runs resume");
  if (r.checkpoint.empty() || !std::filesystem::exists(r.checkpoint))
    throw ConfigError("resume", "run " + std::to_string(r.id) + " has no checkpoint to resume from" +
                                    (r.checkpoint.empty() ? "" : " (" + r.checkpoint + " is gone)"));
  const auto stored = nlohmann::json::parse(r.config_json);
  ConfigBuilder builder(method_in_json(stored), dataset_in_json(stored));
  builder.merge_json(stored, "the stored config of run " + std::to_string(r.id));
  const RunConfig cfg = builder.build();
  const int from = checkpoint_epoch(r.checkpoint);
  db.prepare_resume(r.id, from);
  storage::RunRecorder recorder(db, r.id);
  RunProgress progress("run " + std::to_string(r.id) + " (" + cfg.method + ", from epoch " + std::to_string(from + 1) + ")",
                       cfg.epochs, stderr_is_tty(), g.quiet);
  FanOut fan({&recorder, &progress});
  install_stop_handlers();
  TrainControl control;
  control.stop = &g_stop;
  control.checkpoint_dir = std::filesystem::path(r.checkpoint).parent_path().string();
  control.resume_from = r.checkpoint;
  const RunOutcome outcome = train(cfg, fan, control);
  return report(db, r.id, r.name, cfg, outcome);
}

}  // namespace

int cmd_run(const Global& g, const RunRequest& req) {
  if (req.nproc < 1) throw ConfigError("nproc", "must be at least 1 (got " + std::to_string(req.nproc) + ")");
  std::optional<DataParallel> parallel = parallel_role();
  if ((parallel || req.nproc > 1) && !req.resume.empty())
    throw ConfigError("resume", "--resume continues on one process; give no --nproc (and run it outside srun)");
  if (!req.resume.empty()) return resume_run(g, req);
  // 1. The config, checked completely before anything is written.
  const RunConfig cfg = assemble_config(req);
  if (parallel && parallel->rank > 0) {
    // Another rank: trains its rows, reports nothing, writes nothing.
    parallel->sync_bn = req.sync_bn;
    install_stop_handlers();
    TrainControl control;
    control.stop = &g_stop;
    control.parallel = *parallel;
    TrainObserver silent;
    const RunOutcome outcome = train(cfg, silent, control);
    if (outcome.status == RunStatus::Failed) std::fprintf(stderr, "error: rank %d: %s\n", parallel->rank, outcome.message.c_str());
    return outcome.status == RunStatus::Finished ? kOk : outcome.status == RunStatus::Interrupted ? kInterrupted : kFailure;
  }
  std::unique_ptr<RankWatch> ranks;
  if (!parallel && req.nproc > 1) {
    const int port = free_port();
    ranks = std::make_unique<RankWatch>(start_ranks(req.nproc, port));
    parallel = DataParallel{};
    parallel->rank = 0;
    parallel->world = req.nproc;
    parallel->master_port = port;
  }
  if (parallel) {
    parallel->sync_bn = req.sync_bn;
    if (cfg.batch_size != 0 && cfg.batch_size < 2 * parallel->world)
      throw ConfigError("batch_size", "a batch of " + std::to_string(cfg.batch_size) + " cannot be split over " +
                                          std::to_string(parallel->world) + " processes (each needs two rows or more)");
  }
  // 2. The database; the run row appears when training starts, after the
  //    data have been read and checked.
  storage::Database db(g.db_path());
  db.mark_abandoned_runs();
  const auto row = storage::new_run_row(cfg, req.tag);
  storage::RunRecorder recorder(db, row);
  RunProgress progress(cfg.method + " on " + cfg.dataset, cfg.epochs, stderr_is_tty(), g.quiet);
  FanOut fan({&recorder, &progress});
  install_stop_handlers();
  TrainControl control;
  control.stop = &g_stop;
  if (is_image_data(cfg.dataset)) control.checkpoint_dir = db.new_checkpoint_dir();
  if (parallel) control.parallel = *parallel;
  const RunOutcome outcome = train(cfg, fan, control);
  if (parallel) {
    const bool others_ok = ranks ? ranks->join() : true;
    if (recorder.run_id() > 0)
      db.append_log(recorder.run_id(), "info",
                    "data-parallel over " + std::to_string(parallel->world) + " processes (Gloo), global batch " +
                        std::to_string(cfg.batch_size) + ", batch norm " + (parallel->sync_bn ? "synchronised" : "per process"));
    if (!others_ok && outcome.status == RunStatus::Finished) {
      std::fprintf(stderr, "error: another data-parallel process failed\n");
      return kFailure;
    }
  }
  return report(db, recorder.run_id(), row.name, cfg, outcome);
}

int cmd_probe_random_init(const Global& g, const RunRequest& req_in) {
  RunRequest req = req_in;
  if (req.method.empty()) req.method = "jmi";  // any single-encoder method: only its encoder is used
  const RunConfig cfg = assemble_config(req);
  storage::Database db(g.db_path());
  auto row = storage::new_run_row(cfg, req.tag);
  row.method = row.base_method = "random-init";
  row.paradigm = "baseline";
  row.name = cfg.name.empty() ? "random-init-" + cfg.dataset + "-" + resolved_encoder(cfg) + "-s" + std::to_string(cfg.seed) : cfg.name;
  auto stored = to_json(cfg);
  stored["method"] = "random-init";
  stored["base_method"] = "random-init";
  row.config_json = stored.dump();
  row.epochs_planned = 0;
  storage::RunRecorder recorder(db, row);
  if (!g.quiet) std::fprintf(stderr, "random-init probe: %s on %s, seed %lld\n", resolved_encoder(cfg).c_str(), cfg.dataset.c_str(),
                             static_cast<long long>(cfg.seed));
  const RunOutcome out = random_init_probe(cfg, recorder);
  for (const auto& p : out.probes)
    std::printf("run %lld '%s': random-init %s, linear probe top-1 %.2f%% (%lld training, %lld test images)\n",
                static_cast<long long>(recorder.run_id()), row.name.c_str(), resolved_encoder(cfg).c_str(), 100.0 * p.top1,
                static_cast<long long>(p.train_size), static_cast<long long>(p.test_size));
  return kOk;
}

int cmd_presets(const std::string& format) {
  const auto names = list_presets();
  if (format == "json") {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& n : names) a.push_back({{"name", n}, {"settings", load_preset(n)}});
    std::cout << a.dump(2) << "\n";
    return kOk;
  }
  if (format != "table") throw ConfigError("format", "unknown format '" + format + "' (accepted: table, json)");
  for (const auto& n : names) {
    const auto p = load_preset(n);
    std::string summary;
    for (const char* k : {"method", "dataset", "lr", "weight_decay", "temperature", "proj_dim", "proj_layers", "epochs", "batch_size"})
      if (p.contains(k)) summary += std::string(summary.empty() ? "" : " ") + k + "=" + (p[k].is_string() ? p[k].get<std::string>() : p[k].dump());
    std::printf("%-32s %s\n", n.c_str(), summary.c_str());
  }
  if (names.empty()) std::cout << "no presets found (looked in: resources/presets)\n";
  return kOk;
}

namespace {

struct BatchJob {
  RunConfig cfg;
  bool random_init = false;  // the untrained-encoder probe instead of training
};

struct BatchResult {
  std::vector<std::string> problems;
  double seconds = 0;
  int jobs = 1;
};

// Runs the jobs on `jobs` worker threads (0: one per core), each with its own
// database connection; a run's row appears when it starts.
BatchResult run_batch(const Global& g, const std::vector<BatchJob>& list, const std::string& tag, int jobs_wanted) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  BatchResult result;
  result.jobs = std::max(1, std::min<int>(jobs_wanted > 0 ? jobs_wanted : static_cast<int>(cores), static_cast<int>(list.size())));
  if (!g.quiet) std::fprintf(stderr, "%zu runs on %d parallel job%s\n", list.size(), result.jobs, result.jobs == 1 ? "" : "s");
  install_stop_handlers();
  BatchProgress progress(static_cast<int>(list.size()), stderr_is_tty(), g.quiet);
  std::mutex mu;
  std::size_t next = 0;
  std::exception_ptr fatal;
  auto worker = [&](int slot) {
    try {
      storage::Database db(g.db_path());  // one connection per worker
      for (;;) {
        std::size_t i;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (next >= list.size() || g_stop.requested.load() || fatal) return;
          i = next++;
        }
        const BatchJob& job = list[i];
        const RunConfig& cfg = job.cfg;
        auto row = storage::new_run_row(cfg, tag);
        if (job.random_init) {
          row.method = row.base_method = "random-init";
          row.paradigm = "baseline";
          auto stored = to_json(cfg);
          stored["method"] = stored["base_method"] = "random-init";
          row.config_json = stored.dump();
          row.epochs_planned = 0;
        }
        storage::RunRecorder recorder(db, row);
        struct Tick : TrainObserver {
          BatchProgress& p;
          int slot;
          Tick(BatchProgress& pp, int s) : p(pp), slot(s) {}
          void on_epoch(const EpochRecord& r) override { p.epoch(slot, r.epoch); }
        } tick(progress, slot);
        FanOut fan({&recorder, &tick});
        const std::string label = (job.random_init ? std::string("random-init") : cfg.method) + " s" + std::to_string(cfg.seed);
        progress.started(slot, label, job.random_init ? 1 : cfg.epochs);
        RunOutcome out;
        if (job.random_init) {
          out = random_init_probe(cfg, fan);
        } else {
          TrainControl control;
          control.stop = &g_stop;
          if (is_image_data(cfg.dataset)) control.checkpoint_dir = db.new_checkpoint_dir();
          out = train(cfg, fan, control);
        }
        std::string line = "run " + std::to_string(recorder.run_id()) + " " + label + ": " + status_name(out.status);
        for (const auto& f : out.finals) {
          char buf[96];
          std::snprintf(buf, sizeof buf, "  %s min/mean NN angle %.1f°/%.1f°", f.encoder.c_str(), f.separation.min,
                        f.separation.mean);
          line += buf;
        }
        for (const auto& p : out.probes) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "  %s probe %.2f%%", p.encoder.c_str(), 100.0 * p.top1);
          line += buf;
        }
        if (!out.message.empty() && out.status != RunStatus::Finished) line += " (" + out.message + ")";
        progress.finished(slot, line);
        if (out.status != RunStatus::Finished) {
          std::lock_guard<std::mutex> lock(mu);
          result.problems.push_back(label + ": " + status_name(out.status) + " " + out.message);
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!fatal) fatal = std::current_exception();
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < result.jobs; ++s) threads.emplace_back(worker, s);
  for (auto& t : threads) t.join();
  if (fatal) std::rethrow_exception(fatal);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace

int cmd_reproduce_ablation(const Global& g, ReproduceRequest& req, const std::string& dataset) {
  const std::vector<std::string> methods = {"sdmi", "sdmi-nodv", "sdmi-nodv-pred", "simsiam", "simsiam-nopred", "simsiam-sdmi"};
  if (!is_image_data(dataset))
    throw ConfigError("dataset", "the ablation reproduces on image data (accepted: fashion-mnist, cifar10, cifar100, "
                                 "tiny-imagenet, imagenet100); the Gaussian ablation is part of `reproduce gaussian`");
  if (req.seeds.empty()) throw ConfigError("seeds", "needs at least one seed");
  const std::string preset = dataset + "/ablation";
  const auto presets = list_presets();
  const bool has_preset = std::find(presets.begin(), presets.end(), preset) != presets.end();
  if (req.tag.empty()) req.tag = "reproduce-ablation-" + dataset + "-" + utc_stamp();
  std::vector<BatchJob> batch;
  for (long long seed : req.seeds) {
    for (const auto& m : methods) {
      RunRequest r;
      r.method = m;
      if (has_preset) r.preset = preset;
      r.settings.emplace_back("dataset", dataset);
      r.settings.emplace_back("seed", std::to_string(seed));
      r.settings.emplace_back("name", "ablation-" + dataset + "-" + m + "-s" + std::to_string(seed));
      for (const auto& kv : req.settings) {
        RunConfig probe;
        probe.method = m;
        probe.dataset = dataset;
        const auto keys = relevant_keys(probe);
        if (std::find(keys.begin(), keys.end(), kv.first) != keys.end() && !find_method(m).fixed.contains(kv.first))
          r.settings.push_back(kv);
      }
      batch.push_back({assemble_config(r), false});
    }
    RunRequest base;
    base.method = "sdmi";
    if (has_preset) base.preset = preset;
    base.settings = {{"dataset", dataset}, {"seed", std::to_string(seed)},
                     {"name", "ablation-" + dataset + "-random-init-s" + std::to_string(seed)}};
    for (const auto& kv : req.settings)
      if (kv.first == "data_dir" || kv.first == "encoder" || kv.first == "probe_epochs" || kv.first == "probe_subset" ||
          kv.first == "device" || kv.first == "proj_dim" || kv.first == "proj_layers" || kv.first == "proj_hidden")
        base.settings.push_back(kv);
    batch.push_back({assemble_config(base), true});
  }
  storage::Database main_db(g.db_path());
  main_db.mark_abandoned_runs();
  if (!g.quiet)
    std::fprintf(stderr, "reproduce ablation on %s: %zu methods x %zu seeds + the random-init baseline%s, tag %s\n",
                 dataset.c_str(), methods.size(), req.seeds.size(), has_preset ? (", preset " + preset).c_str() : "",
                 req.tag.c_str());
  const BatchResult result = run_batch(g, batch, req.tag, req.jobs);
  storage::RunFilter filter;
  filter.tag = req.tag;
  const auto rows = main_db.list_runs(filter);
  std::cout << "\n" << storage::render(storage::probe_table(rows), storage::TableFormat::Text) << "\n";
  std::cout << storage::render(storage::timing_table(rows), storage::TableFormat::Text);
  std::cout << "\n" << rows.size() << " runs in " << format_duration(result.seconds) << " wall time (" << result.jobs
            << " jobs); tag " << req.tag << "; database " << main_db.path() << "\n";
  if (g_stop.requested.load()) return kInterrupted;
  if (!result.problems.empty()) {
    std::cerr << "error: " << result.problems.size() << " run(s) did not finish:\n";
    for (const auto& p : result.problems) std::cerr << "  " << p << "\n";
    return kFailure;
  }
  return kOk;
}

int cmd_reproduce_gaussian(const Global& g, ReproduceRequest& req) {
  // Every config is built and checked before the first run starts.
  std::vector<std::string> methods = req.methods;
  if (methods.empty()) methods = method_names();
  auto uses = [](const std::string& m, const std::string& key) {
    RunConfig probe;
    probe.method = m;
    const auto keys = relevant_keys(probe);
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  for (const auto& [key, value] : req.settings) {
    if (key == "method" || key == "seed" || key == "dataset" || key == "name")
      throw ConfigError(key, "is chosen by reproduce itself (use --methods and --seeds)");
    if (find_config_field(key) == nullptr) ConfigBuilder(methods.front()).set(key, value);  // throws, listing keys
    if (std::none_of(methods.begin(), methods.end(), [&](const std::string& m) { return uses(m, key); }))
      throw ConfigError(key, "is not a setting of any of the chosen methods");
  }
  if (req.setting != "minibatch" && req.setting != "fullbatch")
    throw ConfigError("setting", "unknown setting '" + req.setting + "' (accepted: minibatch, fullbatch)");
  if (req.seeds.empty()) throw ConfigError("seeds", "needs at least one seed");
  if (req.tag.empty()) req.tag = "reproduce-gaussian-" + req.setting + "-" + utc_stamp();
  const std::string tag = req.tag;

  std::vector<RunConfig> configs;
  for (long long seed : req.seeds) {
    for (const auto& m : methods) {
      ConfigBuilder b(m);
      b.set("seed", std::to_string(seed));
      if (req.setting == "fullbatch") b.set("batch_size", "0");
      for (const auto& [key, value] : req.settings)
        if (uses(m, key) && !find_method(m).fixed.contains(key)) b.set(key, value);
      b.set("name", "gaussian-" + req.setting + "-" + m + "-s" + std::to_string(seed));
      configs.push_back(b.build());
    }
  }
  for (const auto& c : configs) resolve_device(c.device);

  storage::Database main_db(g.db_path());
  main_db.mark_abandoned_runs();
  std::vector<BatchJob> batch;
  for (const auto& c : configs) batch.push_back({c, false});
  if (!g.quiet)
    std::fprintf(stderr, "reproduce gaussian (%s): %zu runs (%zu methods x %zu seeds), tag %s\n", req.setting.c_str(),
                 configs.size(), methods.size(), req.seeds.size(), tag.c_str());
  const BatchResult result = run_batch(g, batch, tag, req.jobs);
  const auto& problems = result.problems;
  const double wall = result.seconds;
  const int jobs = result.jobs;

  storage::RunFilter filter;
  filter.tag = tag;
  const auto rows = main_db.list_runs(filter);
  std::cout << "\n" << storage::render(storage::separation_table(rows), storage::TableFormat::Text) << "\n";
  std::cout << storage::render(storage::timing_table(rows), storage::TableFormat::Text);
  std::cout << "\n" << rows.size() << " runs in " << format_duration(wall) << " wall time (" << jobs
            << " jobs); tag " << tag << "; database " << main_db.path() << "\n";
  std::cout << "export: ssrl-workbench export table --tag " << tag << " --format latex\n";
  if (g_stop.requested.load()) {
    std::cerr << "interrupted: " << rows.size() << " of " << configs.size() << " runs were started\n";
    return kInterrupted;
  }
  if (!problems.empty()) {
    std::cerr << "error: " << problems.size() << " run(s) did not finish:\n";
    for (const auto& p : problems) std::cerr << "  " << p << "\n";
    return kFailure;
  }
  return kOk;
}

}  // namespace ssrl::app
