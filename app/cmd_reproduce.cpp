// `reproduce gaussian` and `reproduce ablation`: batches of runs on worker
// threads, then the paper's tables.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "commands.hpp"
#include "progress.hpp"
#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/methods.hpp"
#include "ssrl/runner/runner.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/storage/report.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::app {
namespace {

std::string utc_stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

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
          if (next >= list.size() || stop_requested() || fatal) return;
          i = next++;
        }
        const BatchJob& job = list[i];
        const RunConfig& cfg = job.cfg;
        struct Tick : TrainObserver {
          BatchProgress& p;
          int slot;
          Tick(BatchProgress& pp, int s) : p(pp), slot(s) {}
          void on_epoch(const EpochRecord& r) override { p.epoch(slot, r.epoch); }
        } tick(progress, slot);
        const std::string label = (job.random_init ? std::string("random-init") : cfg.method) + " s" + std::to_string(cfg.seed);
        progress.started(slot, label, job.random_init ? 1 : cfg.epochs);
        runner::Runner runner(db);
        RunOutcome out;
        if (job.random_init) {
          out = runner.random_init(cfg, tag, &tick);
        } else {
          runner::RunOptions options;
          options.observer = &tick;
          options.stop = stop_flag();
          out = runner.run(cfg, tag, options);
        }
        std::string line = "run " + std::to_string(runner.run_id()) + " " + label + ": " + status_name(out.status);
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

// "lr 0.5, momentum 0, ..., t = 1 for sdmi, jmi, simsiam-sdmi": the preset's
// settings in one line.
std::string describe_preset(const std::string& name) {
  const auto p = load_preset(name);
  std::string out;
  for (const auto& [key, value] : p.items()) {
    if (key == "dataset" || key == "per_method") continue;
    out += (out.empty() ? "" : ", ") + key + " " + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  if (p.contains("per_method"))
    for (const auto& [m, values] : p["per_method"].items())
      for (const auto& [key, value] : values.items()) out += ", " + key + " " + value.dump() + " for " + m;
  return out;
}

}  // namespace

int cmd_reproduce_ablation(const Global& g, ReproduceRequest& req, const std::string& dataset) {
  const std::vector<std::string> methods = {"sdmi", "sdmi-nodv", "sdmi-nodv-pred", "simsiam", "simsiam-nopred", "simsiam-sdmi"};
  if (dataset == "gaussian") {
    // The same ablation on the controlled experiment: separation and
    // collapse indicators stand in for the probe.
    req.methods = methods;
    if (req.preset.empty()) req.preset = "gaussian/minibatch";
    if (req.tag.empty()) req.tag = "reproduce-ablation-gaussian-" + utc_stamp();
    return cmd_reproduce_gaussian(g, req, /*ablation=*/true);
  }
  if (!req.preset.empty()) throw ConfigError("preset", "--preset is for --dataset gaussian (image data use <dataset>/ablation)");
  if (!is_image_data(dataset)) {
    std::string images;
    for (const auto& d : datasets())
      if (d.images()) images += (images.empty() ? "" : ", ") + d.name;
    throw ConfigError("dataset", "the ablation reproduces on image data (accepted: " + images + ") or on gaussian");
  }
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
  if (stop_requested()) return kInterrupted;
  if (!result.problems.empty()) {
    std::cerr << "error: " << result.problems.size() << " run(s) did not finish:\n";
    for (const auto& p : result.problems) std::cerr << "  " << p << "\n";
    return kFailure;
  }
  return kOk;
}

int cmd_reproduce_gaussian(const Global& g, ReproduceRequest& req, bool ablation) {
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
  // Every batch comes from a preset, recorded in each run's config, so each
  // table and figure can say which settings it shows.
  const std::string preset = req.preset.empty() ? "gaussian/" + req.setting : req.preset;
  if (dataset_in_json(load_preset(preset)) != "gaussian")
    throw ConfigError("preset", "preset " + preset + " is not for the Gaussian experiment");
  const std::string label = preset.substr(preset.find('/') + 1);
  if (req.tag.empty()) req.tag = "reproduce-gaussian-" + label + "-" + utc_stamp();
  const std::string tag = req.tag;

  std::vector<RunConfig> configs;
  for (long long seed : req.seeds) {
    for (const auto& m : methods) {
      RunRequest r;
      r.method = m;
      r.preset = preset;
      r.settings = {{"seed", std::to_string(seed)}, {"name", "gaussian-" + label + "-" + m + "-s" + std::to_string(seed)}};
      for (const auto& [key, value] : req.settings)
        if (uses(m, key) && !find_method(m).fixed.contains(key)) r.settings.emplace_back(key, value);
      configs.push_back(assemble_config(r));
    }
  }
  for (const auto& c : configs) resolve_device(c.device);

  storage::Database main_db(g.db_path());
  main_db.mark_abandoned_runs();
  std::vector<BatchJob> batch;
  for (const auto& c : configs) batch.push_back({c, false});
  if (!g.quiet)
    std::fprintf(stderr, "reproduce %s (preset %s): %zu runs (%zu methods x %zu seeds), tag %s\n",
                 ablation ? "ablation gaussian" : "gaussian", preset.c_str(),
                 configs.size(), methods.size(), req.seeds.size(), tag.c_str());
  const BatchResult result = run_batch(g, batch, tag, req.jobs);
  const auto& problems = result.problems;
  const double wall = result.seconds;
  const int jobs = result.jobs;

  storage::RunFilter filter;
  filter.tag = tag;
  const auto rows = main_db.list_runs(filter);
  std::cout << "\nSettings: preset " << preset << " (" << describe_preset(preset) << ")\n";
  const auto table = ablation ? storage::gaussian_ablation_table(rows) : storage::separation_table(rows);
  std::cout << "\n" << storage::render(table, storage::TableFormat::Text) << "\n";
  std::cout << storage::render(storage::timing_table(rows), storage::TableFormat::Text);
  std::cout << "\n" << rows.size() << " runs in " << format_duration(wall) << " wall time (" << jobs
            << " jobs); tag " << tag << "; database " << main_db.path() << "\n";
  std::cout << "export: ssrl-workbench export table --tag " << tag << " --format latex\n";
  if (stop_requested()) {
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
