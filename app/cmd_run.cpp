// `run` (new, resumed, or one rank of a data-parallel run), `probe
// --random-init` and `presets`.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "parallel.hpp"
#include "progress.hpp"
#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/runner/runner.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::app {
namespace {

std::string fmt(const std::optional<double>& v, int decimals = 4) {
  if (!v) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

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
    std::printf("encoder %s: %s\n", f.encoder.c_str(), separation_text(f.separation, cfg.clusters).c_str());
  for (const auto& p : outcome.probes)
    std::printf("encoder %s: linear probe top-1 %.2f%% (%lld training, %lld test images, %d epochs)\n", p.encoder.c_str(),
                100.0 * p.top1, static_cast<long long>(p.train_size), static_cast<long long>(p.test_size), p.epochs);
  if (!outcome.checkpoint.empty()) std::cout << "checkpoint " << outcome.checkpoint << "\n";
  switch (outcome.status) {
    case RunStatus::Finished: return kOk;
    case RunStatus::Interrupted:
      if (outcome.checkpoint.empty())
        std::cerr << "interrupted after " << outcome.epochs_done << " epochs (this run keeps no checkpoint; start it again)\n";
      else
        std::cerr << "interrupted: continue with  ssrl-workbench run --resume " << id << "\n";
      return kInterrupted;
    default:
      std::cerr << "error: run " << id << " " << status_name(outcome.status) << ": " << outcome.message << "\n";
      return kFailure;
  }
}

int exit_code(const RunOutcome& outcome) {
  switch (outcome.status) {
    case RunStatus::Finished: return kOk;
    case RunStatus::Interrupted: return kInterrupted;
    default: return kFailure;
  }
}

int resume_run(const Global& g, const RunRequest& req) {
  if (!req.method.empty() || !req.preset.empty() || !req.config_file.empty() || !req.settings.empty())
    throw ConfigError("resume", "--resume continues a run with its stored settings; give no other settings");
  storage::Database db(g.db_path());
  db.mark_abandoned_runs();
  const auto d = db.load_run(req.resume);
  if (!d) throw ConfigError("resume", "no run with id or name '" + req.resume + "' in " + db.path());
  const RunConfig cfg = runner::stored_config(d->run);
  RunProgress progress("run " + std::to_string(d->run.id) + " (" + cfg.method + ", from its checkpoint)", cfg.epochs,
                       stderr_is_tty(), g.quiet);
  install_stop_handlers();
  runner::Runner runner(db);
  runner::RunOptions options;
  options.observer = &progress;
  options.stop = stop_flag();
  const RunOutcome outcome = runner.resume(std::to_string(d->run.id), options);
  return report(db, runner.run_id(), runner.run_name(), cfg, outcome);
}

// Ranks 1..n-1 of a data-parallel run train their rows and store nothing.
int run_other_rank(const RunConfig& cfg, DataParallel role) {
  install_stop_handlers();
  TrainControl control;
  control.stop = stop_flag();
  control.parallel = role;
  TrainObserver silent;
  const RunOutcome outcome = train(cfg, silent, control);
  if (outcome.status == RunStatus::Failed) std::fprintf(stderr, "error: rank %d: %s\n", role.rank, outcome.message.c_str());
  return exit_code(outcome);
}

}  // namespace

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
  RunConfig cfg = assemble_config(sources);
  if (!cfg.init_from.empty()) {
    // Stored absolute, so that resume and reproduction find it from any folder.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(cfg.init_from, ec))
      throw ConfigError("init_from", "no weights file '" + cfg.init_from + "'");
    cfg.init_from = std::filesystem::absolute(cfg.init_from).lexically_normal().string();
  }
  resolve_device(cfg.device);  // a missing GPU is a config error, found before the run exists
  return cfg;
}

int cmd_run(const Global& g, const RunRequest& req) {
  if (req.nproc < 1) throw ConfigError("nproc", "must be at least 1 (got " + std::to_string(req.nproc) + ")");
  std::optional<DataParallel> parallel = parallel_role();
  if ((parallel || req.nproc > 1) && !req.resume.empty())
    throw ConfigError("resume", "--resume continues on one process; give no --nproc (and run it outside srun)");
  if (!req.resume.empty()) return resume_run(g, req);
  // 1. The config, checked completely before anything is written.
  const RunConfig cfg = assemble_config(req);
  if (parallel) parallel->sync_bn = req.sync_bn;
  if (parallel && parallel->rank > 0) return run_other_rank(cfg, *parallel);
  std::unique_ptr<LocalRanks> ranks;
  if (!parallel && req.nproc > 1) {
    ranks = std::make_unique<LocalRanks>(req.nproc);
    parallel = ranks->role();
    parallel->sync_bn = req.sync_bn;
  }
  if (parallel && cfg.batch_size != 0 && cfg.batch_size < 2 * parallel->world)
    throw ConfigError("batch_size", "a batch of " + std::to_string(cfg.batch_size) + " cannot be split over " +
                                        std::to_string(parallel->world) + " processes (each needs two rows or more)");
  // 2. The database; the run row appears when training starts, after the
  //    data have been read and checked.
  storage::Database db(g.db_path());
  db.mark_abandoned_runs();
  RunProgress progress(cfg.method + " on " + cfg.dataset, cfg.epochs, stderr_is_tty(), g.quiet);
  install_stop_handlers();
  runner::Runner runner(db);
  runner::RunOptions options;
  options.observer = &progress;
  options.stop = stop_flag();
  options.parallel = parallel;
  const RunOutcome outcome = runner.run(cfg, req.tag, options);
  if (parallel) {
    const bool others_ok = ranks ? ranks->join() : true;
    if (runner.run_id() > 0)
      db.append_log(runner.run_id(), "info",
                    "data-parallel over " + std::to_string(parallel->world) + " processes (Gloo), global batch " +
                        std::to_string(cfg.batch_size) + ", batch norm " + (parallel->sync_bn ? "synchronised" : "per process"));
    if (!others_ok && outcome.status == RunStatus::Finished) {
      std::fprintf(stderr, "error: another data-parallel process failed\n");
      return kFailure;
    }
  }
  return report(db, runner.run_id(), runner.run_name(), cfg, outcome);
}

int cmd_probe_random_init(const Global& g, const RunRequest& req_in) {
  RunRequest req = req_in;
  if (req.method.empty()) req.method = "jmi";  // any single-encoder method: only its encoder is used
  const RunConfig cfg = assemble_config(req);
  storage::Database db(g.db_path());
  runner::Runner runner(db);
  if (!g.quiet) std::fprintf(stderr, "random-init probe: %s on %s, seed %lld\n", resolved_encoder(cfg).c_str(), cfg.dataset.c_str(),
                             static_cast<long long>(cfg.seed));
  const RunOutcome out = runner.random_init(cfg, req.tag);
  for (const auto& p : out.probes)
    std::printf("run %lld '%s': random-init %s, linear probe top-1 %.2f%% (%lld training, %lld test images)\n",
                static_cast<long long>(runner.run_id()), runner.run_name().c_str(), resolved_encoder(cfg).c_str(), 100.0 * p.top1,
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

}  // namespace ssrl::app
