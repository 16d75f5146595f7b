#include "cli.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>

#include "commands.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/output_file.hpp"
#include "ssrl/config.hpp"
#include "ssrl/engine.hpp"
#include "ssrl/methods.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::app {

std::string Global::db_path() const { return db.empty() ? storage::Database::default_path() : db; }

namespace {

std::vector<long long> parse_list(const std::string& text, const std::string& field) {
  std::vector<long long> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || v < 0) throw ConfigError(field, "expects a comma-separated list of integers >= 0 (got '" + text + "')");
    out.push_back(v);
  }
  if (out.empty()) throw ConfigError(field, "expects at least one value");
  return out;
}

std::vector<std::string> parse_names(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::pair<std::string, std::string> split_setting(const std::string& kv) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("set", "expects key=value (got '" + kv + "')");
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

// --key-with-dashes options for settings, with the help text and range of
// their declaration (ssrl/settings.def): every setting the declaration marks
// as a flag, or the keys listed.
class SettingFlags {
 public:
  explicit SettingFlags(CLI::App* cmd, const std::vector<std::string>& only = {}) {
    for (const auto& f : config_fields()) {
      const bool wanted = only.empty() ? f.flag : std::find(only.begin(), only.end(), f.key) != only.end();
      if (!wanted) continue;
      std::string name = f.key;
      std::replace(name.begin(), name.end(), '_', '-');
      cmd->add_option("--" + name, values_[f.key], f.description + " [" + f.range() + "]");
      keys_.push_back(f.key);
    }
  }
  // The flags given, as key=value after `settings` (later wins), in table order.
  void append_to(std::vector<std::pair<std::string, std::string>>& settings) const {
    for (const auto& key : keys_) {
      const std::string& v = values_.at(key);
      if (!v.empty()) settings.emplace_back(key, key == "batch_size" && v == "full" ? "0" : v);
    }
  }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> keys_;
};

std::string method_list() {
  std::string s;
  for (const auto& n : method_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

int run_cli(int argc, char** argv, const GuiHooks& gui) {
  CLI::App app{"SSRL Workbench: train self-supervised methods and watch them maximise mutual information.",
               "ssrl-workbench"};
  // What the build knows: loading LibTorch to ask it would cost a second.
  app.set_version_flag("--version", [] {
    return std::string("ssrl-workbench ") + SSRL_VERSION + "\nLibTorch " + torch_build_version() +
           (torch_build_has_cuda() ? " (with CUDA; `ssrl-workbench devices` lists the GPUs it finds)"
                                   : " (CPU only)");
  });
  app.require_subcommand(gui.open ? 0 : 1, 1);
  app.fallthrough();
  Global g;
  app.add_option("--db", g.db, "SQLite database (default: " + storage::Database::default_path() + ")");
  app.add_flag("-q,--quiet", g.quiet, "no progress output");
  app.footer(
      "Exit codes: 0 success, 1 failure while running (or a run that diverged/failed), 2 bad usage or invalid\n"
      "config, 130 interrupted (Ctrl-C; the run is stored as 'interrupted').\n"
      "Methods: " + method_list());

  // run ------------------------------------------------------------------------
  RunRequest run_req;
  std::vector<std::string> r_sets;
  auto* run = app.add_subcommand("run", "train one run and store it");
  run->add_option("-m,--method", run_req.method, "method or variant (see `methods`)");
  run->add_option("--preset", run_req.preset, "group/name of a preset (see `presets`), e.g. cifar10/simclr");
  run->add_option("--resume", run_req.resume, "continue an interrupted run from its last checkpoint");
  const SettingFlags run_flags(run);
  run->add_option("--config", run_req.config_file, "JSON file of settings (keys as in `show --format json`)");
  run->add_option("--set", r_sets, "key=value, repeatable; any setting (see `methods --format json`)");
  run->add_option("--tag", run_req.tag, "free-text tag to group runs");
  run->add_option("--nproc", run_req.nproc,
                  "data-parallel processes on this machine (Gloo over loopback); the batch size stays the global one");
  run->add_flag("!--no-sync-bn", run_req.sync_bn, "data-parallel: batch norm over each process's rows only");

  // reproduce gaussian -------------------------------------------------------
  ReproduceRequest rep_req;
  std::string rep_seeds = "0", rep_methods;
  std::vector<std::string> rep_sets;
  auto* rep = app.add_subcommand("reproduce", "reproduce an experiment of the paper");
  rep->require_subcommand(1, 1);
  auto* rep_g = rep->add_subcommand("gaussian", "every method and variant on the Gaussian mixture, then the separation table");
  rep_g->add_option("--seeds", rep_seeds, "comma-separated seeds (default 0)");
  rep_g->add_option("--setting", rep_req.setting, "minibatch (batch 500, SGD lr 0.5, cosine, 100 epochs) or fullbatch");
  rep_g->add_option("--preset", rep_req.preset,
                    "gaussian/minibatch, gaussian/fullbatch (the workbench's defaults), gaussian/paper-minibatch or "
                    "gaussian/paper-fullbatch (the paper's: plain SGD, t = 1 for the cos-DV prototypes); "
                    "default: gaussian/<setting>");
  rep_g->add_option("--methods", rep_methods, "comma-separated subset (default: all methods and variants)");
  rep_g->add_option("--jobs", rep_req.jobs, "runs in parallel (default: one per CPU core, 1 thread each)");
  rep_g->add_option("--set", rep_sets, "key=value applied to every method that has that setting");
  rep_g->add_option("--tag", rep_req.tag, "tag of this batch (default: reproduce-gaussian-<setting>-<time>)");
  if (gui.reproduce_figures)
    rep_g->add_option("--out", rep_req.out,
                      "folder for the figures: trajectories per method (PNG, needs a display or xvfb-run), "
                      "MI curves per estimator and the ablation bars (SVG)");

  ReproduceRequest abl_req;
  std::string abl_seeds = "0", abl_dataset = "fashion-mnist";
  std::vector<std::string> abl_sets;
  auto* rep_a = rep->add_subcommand("ablation", "the predictor / marginal-term ablation on image data, with linear probes");
  rep_a->add_option("--dataset", abl_dataset,
                    "image data set (default fashion-mnist), or gaussian: separation and collapse instead of probes");
  rep_a->add_option("--preset", abl_req.preset, "gaussian: the preset of the runs (default gaussian/minibatch)");
  rep_a->add_option("--seeds", abl_seeds, "comma-separated seeds (default 0)");
  rep_a->add_option("--jobs", abl_req.jobs, "runs in parallel (default: one per CPU core)");
  rep_a->add_option("--set", abl_sets, "key=value applied to every method that has that setting (e.g. data_dir=...)");
  rep_a->add_option("--tag", abl_req.tag, "tag of this batch");
  if (gui.reproduce_figures) rep_a->add_option("--out", abl_req.out, "folder for the ablation figure and tables");

  CalibrationRequest cal_req;
  std::string cal_sizes;
  auto* rep_c = rep->add_subcommand(
      "mi-calibration", "the MI estimators against pairs whose MI is known (Gaussian and von Mises-Fisher pairs)");
  rep_c->add_option("--out", cal_req.out, "folder for calibration.json, the tables and the figure (default mi-calibration)");
  rep_c->add_option("--repeats", cal_req.repeats, "independent draws per cell (default 10)");
  rep_c->add_option("--sizes", cal_sizes, "comma-separated batch sizes N (default 64,256,1024,4096)");
  rep_c->add_option("--seed", cal_req.seed, "seed of the draws (default 0)");
  rep_c->add_flag("--quick", cal_req.quick, "a few cells and draws: a look in seconds, not the reference");

  // runs, show, methods ----------------------------------------------------------
  std::string runs_format = "table", runs_dataset, runs_method, runs_status, runs_tag;
  auto* runs = app.add_subcommand("runs", "list the runs in the database");
  runs->add_option("--format", runs_format, "table|json");
  runs->add_option("--dataset", runs_dataset, "only this data set");
  runs->add_option("--method", runs_method, "only this method");
  runs->add_option("--status", runs_status, "only this status");
  runs->add_option("--tag", runs_tag, "only this tag");

  std::string show_run, show_format = "text";
  auto* show = app.add_subcommand("show", "one run: config, per-epoch metrics, final statistics");
  show->add_option("run", show_run, "run id or name")->required();
  show->add_option("--format", show_format, "text|json");

  RunRequest probe_req;
  bool probe_random = false;
  std::vector<std::string> p_sets;
  auto* probe = app.add_subcommand("probe", "linear-probe an untrained encoder: the baseline trained runs must beat");
  probe->add_flag("--random-init", probe_random, "the encoder at its random initialisation (required)")->required();
  const SettingFlags probe_flags(probe, {"dataset", "data_dir", "encoder", "seed", "probe_epochs"});
  probe->add_option("--preset", probe_req.preset, "take the encoder and data settings of a preset");
  probe->add_option("--set", p_sets, "key=value, repeatable");
  probe->add_option("--tag", probe_req.tag, "free-text tag");

  std::string presets_format = "table";
  auto* presets = app.add_subcommand("presets", "the shipped presets (the paper's selected settings per data set)");
  presets->add_option("--format", presets_format, "table|json");

  std::string settings_format = "table";
  auto* settings = app.add_subcommand("settings", "every run setting: default, range, who uses it, meaning");
  settings->add_option("--format", settings_format, "table|markdown|json");

  std::string datasets_format = "table";
  auto* datasets_cmd = app.add_subcommand("datasets", "the data sets: files, folder, encoder, normalisation, defaults");
  datasets_cmd->add_option("--format", datasets_format, "table|json");

  auto* devices = app.add_subcommand("devices", "load LibTorch and say which devices it can train on");

  std::string methods_format = "table";
  auto* methods = app.add_subcommand("methods", "methods and variants with paradigm and defaults");
  methods->add_option("--format", methods_format, "table|json");

  // export table ----------------------------------------------------------------
  ExportRequest exp_req;
  std::string exp_runs;
  auto* exp = app.add_subcommand("export", "export results");
  exp->require_subcommand(1, 1);
  auto* exp_t = exp->add_subcommand("table", "separation and MI per method, mean ± SD over seeds");
  exp_t->add_option("--format", exp_req.format, "csv|markdown|latex|text (default markdown)");
  exp_t->add_option("--out", exp_req.out, "output file (default: standard output)");
  exp_t->add_option("--dataset", exp_req.dataset, "data set (default gaussian)");
  exp_t->add_option("--tag", exp_req.tag, "only runs with this tag");
  exp_t->add_flag("--latest", exp_req.latest, "only the latest `reproduce` batch");
  exp_t->add_option("--runs", exp_runs, "comma-separated run ids");
  std::string exp_sweep;
  exp_t->add_option("--sweep", exp_sweep, "a sweep (id or name): its grid and best point per method");

  WeightsRequest w_req;
  auto* exp_w = exp->add_subcommand("weights", "a run's trained encoder as a PyTorch state_dict (torch.load)");
  exp_w->add_option("--run", w_req.run, "run id or name")->required();
  exp_w->add_option("--encoder", w_req.encoder, "f or g (SDMI has both; default f)");
  exp_w->add_option("--part", w_req.part, "all (backbone + projector), backbone or projector (default all)");
  exp_w->add_option("--out", w_req.out, "output file (.pt)")->required();

  FigureRequest fig_req;
  std::string fig_epochs = "1,5,20,70,100";
  auto* exp_f = exp->add_subcommand("figure", "a figure of stored runs as PNG or SVG");
  exp_f->add_option("--kind", fig_req.kind,
                    "trajectories|snapshots (PNG, VTK) or mi|ablation|mi-calibration (PNG or SVG)")->required();
  exp_f->add_option("--input", fig_req.input, "mi-calibration: the calibration.json of `reproduce mi-calibration`");
  exp_f->add_option("--out", fig_req.out, "output file (.png or .svg)")->required();
  exp_f->add_option("--run", fig_req.run, "run id or name (trajectories, snapshots, mi)");
  exp_f->add_option("--compare", fig_req.compare, "trajectories: a second run drawn hollow for comparison");
  exp_f->add_option("--tag", fig_req.tag, "mi, ablation: the runs with this tag");
  exp_f->add_flag("--latest", fig_req.latest, "mi, ablation: the newest reproduce batch");
  exp_f->add_option("--estimator", fig_req.estimator, "mi: all (one panel each) or cos_dv|infonce|jsd (SDMI|JMI panels)");
  exp_f->add_option("--width", fig_req.width, "pixels (default 1800)");
  exp_f->add_option("--height", fig_req.height, "pixels (default 1000)");
  exp_f->add_option("--dpi", fig_req.dpi, "resolution stored in the file; scales the text (default 150)");
  exp_f->add_option("--epochs", fig_epochs, "snapshots: comma-separated epochs (default 1,5,20,70,100)");

  // bench -------------------------------------------------------------------------
  BenchRequest bench_req;
  std::string bench_sizes = "512,2500,10000";
  auto* bench = app.add_subcommand("bench", "time and peak memory of the losses and MI estimators");
  bench->add_option("--sizes", bench_sizes, "comma-separated N (default 512,2500,10000)");
  bench->add_option("--dim", bench_req.dim, "embedding dimension D (default 3)");
  bench->add_option("--repeats", bench_req.repeats, "timed repeats per case (default 5)");
  bench->add_flag("!--no-dense", bench_req.dense, "skip the dense N x N references");
  bench->add_option("--format", bench_req.format, "text|json");

  std::string bench_gui_method = "sdmi";
  int bench_gui_epochs = 100, bench_gui_repeats = 2;
  CLI::App* bench_gui = nullptr;
  if (gui.bench) {
    bench_gui = bench->add_subcommand("gui", "event-loop latency and training time with the window open vs headless");
    bench_gui->add_option("--method", bench_gui_method, "method to train (default sdmi)");
    bench_gui->add_option("--epochs", bench_gui_epochs, "epochs (default 100)");
    bench_gui->add_option("--repeats", bench_gui_repeats, "repetitions of each mode (default 2)");
  }
  int bs_repeats = 10;
  auto* bench_startup = bench->add_subcommand("startup", "exec-to-exit time of commands, and the window's time to appear");
  bench_startup->add_option("--repeats", bs_repeats, "fresh processes per command (default 10)");
  TrainBenchRequest tb_req;
  auto* bench_train = bench->add_subcommand("train", "training and data-pipeline images/s per method on images");
  bench_train->add_option("--encoders", tb_req.encoders, "comma-separated (default small-cnn,resnet18)");
  bench_train->add_option("--methods", tb_req.methods, "comma-separated (default: every method)");
  bench_train->add_option("--steps", tb_req.steps, "timed steps per case (default 3)");
  bench_train->add_option("--batch-small", tb_req.batch_small, "batch for the small CNN (default 256)");
  bench_train->add_option("--batch-resnet", tb_req.batch_resnet, "batch for ResNets (default 64)");
  bench_train->add_option("--device", tb_req.device, "auto|cpu|cuda");
  bench_train->add_option("--data-dir", tb_req.data_dir, "Fashion-MNIST folder (skipped when absent)");
  ParallelBenchRequest pb_req;
  auto* bench_parallel = bench->add_subcommand("parallel", "images/s of `run` on one process and on --nproc processes");
  bench_parallel->add_option("--nproc", pb_req.nproc, "processes to compare with one (default 2)");
  bench_parallel->add_option("--epochs", pb_req.epochs, "epochs of the image case (default 2)");
  bench_parallel->add_option("--repeats", pb_req.repeats, "runs per row (default 1)");
  bench_parallel->add_option("--cases", pb_req.cases, "comma-separated: fashion-mnist, gaussian (default both)");
  bench_parallel->add_option("--data-dir", pb_req.data_dir, "Fashion-MNIST folder");

  // sweep ---------------------------------------------------------------------------
  auto* sweep = app.add_subcommand("sweep", "grids and random searches over settings, methods and seeds");
  sweep->require_subcommand(1, 1);
  SweepRequest sw_req;
  auto* sw_plan = sweep->add_subcommand("plan", "print the runs a sweep file expands to");
  sw_plan->add_option("file", sw_req.file, "sweep file (JSON), or a shipped sweep (see `sweep plan --help`)")->required();
  sw_plan->add_option("--format", sw_req.format, "text|json");
  std::vector<std::string> sw_sets;
  sw_plan->add_option("--set", sw_sets, "key=value into the sweep's base (pins an axis of that name)");
  sw_plan->add_option("--max-runs", sw_req.max_runs, "refuse a sweep of more runs (default: the file's max_runs, else 10000)");
  auto* sw_run = sweep->add_subcommand("run", "run a sweep's runs; run it again to continue after an interruption");
  sw_run->add_option("file", sw_req.file, "sweep file (JSON), or a shipped sweep")->required();
  sw_run->add_option("--jobs", sw_req.jobs, "worker processes claiming runs from the database (default 1)");
  sw_run->add_option("--shard", sw_req.shard, "i/K: only runs i, i+K, i+2K, ... (one Slurm array task)");
  sw_run->add_flag("--retry-failed", sw_req.retry_failed, "also run again the runs that failed");
  sw_run->add_option("--set", sw_sets, "key=value into the sweep's base, e.g. data_dir=... (the same as at plan time)");
  sw_run->add_option("--max-runs", sw_req.max_runs, "refuse a sweep of more runs (default: the file's max_runs, else 10000)");
  std::string sw_which, sw_format = "text", sw_out;
  auto* sw_status = sweep->add_subcommand("status", "progress of a sweep (or of every sweep): runs per state, ETA");
  sw_status->add_option("sweep", sw_which, "sweep id or name (default: all)");
  sw_status->add_option("--format", sw_format, "text|json");
  auto* sw_report = sweep->add_subcommand("report", "a sweep's grid with its results and the best point per method");
  sw_report->add_option("sweep", sw_which, "sweep id or name (default: the newest)");
  sw_report->add_option("--format", sw_format, "csv|markdown|latex|text");
  sw_report->add_option("--out", sw_out, "output file (default: standard output)");
  auto* sw_work = sweep->add_subcommand("work", "one worker of `sweep run --jobs N` (used internally)");
  sw_work->add_option("sweep", sw_which, "sweep id")->required();
  sw_work->group("");
  SlurmRequest sl_req;
  auto* sw_slurm = sweep->add_subcommand("slurm", "write a Slurm job array that runs the sweep in shards");
  sw_slurm->add_option("file", sl_req.file, "sweep file (JSON), or a shipped sweep")->required();
  sw_slurm->add_option("--out", sl_req.out, "folder for the script, the shards and the logs")->required();
  sw_slurm->add_option("--shards", sl_req.shards, "array tasks, each with its own database (default 8)");
  sw_slurm->add_option("--partition", sl_req.partition, "Slurm partition");
  sw_slurm->add_option("--time", sl_req.time, "time limit per task, e.g. 12:00:00");
  sw_slurm->add_option("--gpus-per-task", sl_req.gpus_per_task, "GPUs per task");
  sw_slurm->add_option("--cpus-per-task", sl_req.cpus_per_task, "CPUs per task");
  sw_slurm->add_option("--mem", sl_req.mem, "memory per task, e.g. 16G");
  sw_slurm->add_option("--account", sl_req.account, "Slurm account");
  sw_slurm->add_option("--exe", sl_req.exe, "ssrl-workbench as the compute nodes see it (default: this program)");
  sw_slurm->add_option("--set", sw_sets, "key=value into the sweep's base, e.g. data_dir=/scratch/cifar");
  sw_slurm->add_option("--max-runs", sl_req.max_runs, "refuse a sweep of more runs (default: the file's max_runs, else 10000)");
  std::vector<std::string> merge_shards;
  std::string merge_into;
  auto* merge = app.add_subcommand("merge", "fold shard databases into one (idempotent)");
  merge->add_option("shards", merge_shards, "shard databases")->required();
  merge->add_option("--into", merge_into, "the database to merge into (created if absent)")->required();

  CLI::App* gui_cmd = nullptr;
  if (gui.open) gui_cmd = app.add_subcommand("gui", "open the desktop workbench (the default with no command)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }

  // Only the commands that load the engine pay for OpenMP's re-exec (if any).
  const bool light = runs->parsed() || show->parsed() || methods->parsed() || settings->parsed() ||
                     datasets_cmd->parsed() || presets->parsed() || exp_f->parsed() || exp_t->parsed() ||
                     sw_plan->parsed() || sw_status->parsed() || sw_report->parsed() || sw_slurm->parsed() ||
                     merge->parsed();
  if (!light) reexec_for_openmp();
  if (app.get_subcommands().empty() || (gui_cmd != nullptr && gui_cmd->parsed())) return gui.open(g.db_path());
  if (run->parsed()) {
    for (const auto& kv : r_sets) run_req.settings.push_back(split_setting(kv));
    run_flags.append_to(run_req.settings);
    return cmd_run(g, run_req);
  }
  if (rep_g->parsed()) {
    rep_req.seeds = parse_list(rep_seeds, "seeds");
    rep_req.methods = parse_names(rep_methods);
    for (const auto& m : rep_req.methods) find_method(m);
    for (const auto& kv : rep_sets) rep_req.settings.push_back(split_setting(kv));
    if (rep_req.jobs < 0) throw ConfigError("jobs", "must be at least 1");
    if (!rep_req.out.empty()) prepare_output_dir(rep_req.out);  // a bad --out fails before the runs
    const int code = cmd_reproduce_gaussian(g, rep_req);
    if (rep_req.out.empty() || code == kInterrupted) return code;
    const int figures = gui.reproduce_figures(g, rep_req.tag, rep_req.out);
    return code != kOk ? code : figures;
  }
  if (rep_c->parsed()) {
    if (!cal_sizes.empty()) cal_req.sizes = parse_list(cal_sizes, "sizes");
    return cmd_reproduce_mi_calibration(cal_req, gui.calibration_figure);
  }
  if (rep_a->parsed()) {
    abl_req.seeds = parse_list(abl_seeds, "seeds");
    for (const auto& kv : abl_sets) abl_req.settings.push_back(split_setting(kv));
    if (abl_req.jobs < 0) throw ConfigError("jobs", "must be at least 1");
    if (!abl_req.out.empty()) prepare_output_dir(abl_req.out);
    const int code = cmd_reproduce_ablation(g, abl_req, abl_dataset);
    if (abl_req.out.empty() || code == kInterrupted) return code;
    const int figures = gui.reproduce_figures(g, abl_req.tag, abl_req.out);
    return code != kOk ? code : figures;
  }
  if (runs->parsed()) return cmd_runs(g, runs_format, runs_dataset, runs_method, runs_status, runs_tag);
  if (show->parsed()) return cmd_show(g, show_run, show_format);
  if (methods->parsed()) return cmd_methods(methods_format);
  if (settings->parsed()) return cmd_settings(settings_format);
  if (datasets_cmd->parsed()) return cmd_datasets(datasets_format);
  if (presets->parsed()) return cmd_presets(presets_format);
  if (devices->parsed()) return cmd_devices();
  if (probe->parsed()) {
    for (const auto& kv : p_sets) probe_req.settings.push_back(split_setting(kv));
    probe_flags.append_to(probe_req.settings);
    if (!probe_req.preset.empty()) {
      // A preset names its method; the baseline only borrows its encoder settings.
      probe_req.method = method_in_json(load_preset(probe_req.preset));
    }
    return cmd_probe_random_init(g, probe_req);
  }
  if (exp_f->parsed()) {
    if (!gui.figure)
      throw ConfigError("export", "this build has no figure export (configured with -DWB_BUILD_GUI=OFF)");
    fig_req.epochs = parse_list(fig_epochs, "epochs");
    return gui.figure(g, fig_req);
  }
  for (const auto& kv : sw_sets) sw_req.settings.push_back(split_setting(kv));
  sl_req.settings = sw_req.settings;
  if (sw_plan->parsed()) return cmd_sweep_plan(sw_req);
  if (sw_run->parsed()) return cmd_sweep_run(g, sw_req);
  if (sw_work->parsed()) return cmd_sweep_work(g, sw_which);
  if (sw_status->parsed()) return cmd_sweep_status(g, sw_which, sw_format);
  if (sw_report->parsed()) return cmd_sweep_report(g, sw_which, sw_format, sw_out);
  if (sw_slurm->parsed()) return cmd_sweep_slurm(sl_req);
  if (merge->parsed()) return cmd_merge(merge_shards, merge_into, g.quiet);
  if (exp_w->parsed()) return cmd_export_weights(g, w_req);
  if (exp_t->parsed() && !exp_sweep.empty()) return cmd_sweep_report(g, exp_sweep, exp_req.format, exp_req.out);
  if (exp_t->parsed()) {
    if (!exp_runs.empty()) exp_req.runs = parse_list(exp_runs, "runs");
    return cmd_export_table(g, exp_req);
  }
  if (bench_gui != nullptr && bench_gui->parsed()) {
    find_method(bench_gui_method);
    if (bench_gui_epochs < 1 || bench_gui_repeats < 1) throw ConfigError("epochs", "epochs and repeats must be at least 1");
    return gui.bench(g.db_path(), bench_gui_method, bench_gui_epochs, bench_gui_repeats);
  }
  if (bench_train->parsed()) return cmd_bench_train(tb_req);
  if (bench_parallel->parsed()) return cmd_bench_parallel(pb_req);
  if (bench_startup->parsed()) return cmd_bench_startup(bs_repeats, static_cast<bool>(gui.open));
  if (bench->parsed()) {
    bench_req.sizes = parse_list(bench_sizes, "sizes");
    return cmd_bench(bench_req);
  }
  std::cerr << app.help();
  return kUsage;
}

}  // namespace ssrl::app
