#pragma once
#include <sys/types.h>
// The CLI's commands. Each returns the process exit code; errors travel as
// exceptions (ssrl::ConfigError -> 2, other failures -> 1) to main().

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ssrl/calibration.hpp"
#include "ssrl/config.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::app {

enum ExitCode { kOk = 0, kFailure = 1, kUsage = 2, kInterrupted = 130 };

struct Global {
  std::string db;  // empty: the default database
  bool quiet = false;
  std::string db_path() const;
};

// Settings as typed, in command-line order: explicit flags become key=value
// pairs so that they share the config's checks and messages.
struct RunRequest {
  std::string method;
  std::string preset;       // group/name under resources/presets
  std::string config_file;
  std::vector<std::pair<std::string, std::string>> settings;
  std::string tag;
  std::string resume;       // id or name of an interrupted run to continue
  int nproc = 1;            // data-parallel processes on this machine
  bool sync_bn = true;      // batch norm over the global batch (data-parallel)
};

struct ReproduceRequest {
  std::string out;  // folder for the figures; empty: none
  std::vector<long long> seeds{0};
  std::string setting = "minibatch";  // minibatch | fullbatch
  std::string preset;                 // gaussian/...; empty: gaussian/<setting>
  std::vector<std::string> methods;   // empty: every method and variant
  std::vector<std::pair<std::string, std::string>> settings;
  int jobs = 0;  // 0: one per CPU core
  std::string tag;
};

struct ExportRequest {
  std::string format = "markdown";
  std::string out;
  std::string dataset = "gaussian";
  std::string tag;
  bool latest = false;
  std::vector<long long> runs;
};

struct FigureRequest {
  std::string run;      // id or name (trajectories, snapshots, mi)
  std::string compare;  // a second run drawn hollow on the trajectories
  std::string tag;      // a batch of runs (mi, ablation)
  bool latest = false;  // the newest reproduce batch (mi, ablation)
  std::string kind;     // trajectories | snapshots | mi | ablation | mi-calibration
  std::string input;    // mi-calibration: the calibration.json `reproduce mi-calibration` wrote
  std::string out;
  std::string estimator = "all";  // mi: all | cos_dv | infonce | jsd
  int width = 1800, height = 1000;
  double dpi = 150;
  std::vector<long long> epochs{1, 5, 20, 70, 100};
};

struct CalibrationRequest {
  std::string out = "mi-calibration";  // folder for the results, table and figure
  int repeats = 10;
  std::vector<long long> sizes{64, 256, 1024, 4096};
  long long seed = 0;
  bool quick = false;  // fewer cells and draws: a look in seconds, not the reference
};

struct BenchRequest {
  std::vector<long long> sizes{512, 2500, 10000};
  int dim = 3;
  int repeats = 5;
  bool dense = true;
  std::string format = "text";
};

int cmd_run(const Global& g, const RunRequest& req);
// The config a request describes: preset < config file < --set < flags;
// ConfigError for anything wrong, before anything is written.
RunConfig assemble_config(const RunRequest& req);
int cmd_presets(const std::string& format);
// `probe --random-init`: the untrained-encoder baseline, stored as a run of
// method "random-init".
int cmd_probe_random_init(const Global& g, const RunRequest& req);
// The paper's ablation on image data (SDMI, SDMI-NoDV, SDMI-NoDV-Pred,
// SimSiam, SimSiam-NoPred, SimSiam-SDMI and the random-init baseline) with
// linear-probe accuracy. Fills req.tag when it was empty.
int cmd_reproduce_ablation(const Global& g, ReproduceRequest& req, const std::string& dataset);
// Fills req.tag when it was empty.
// ablation: the ablation methods only, and their table (separation and
// collapse) in place of the separation table.
int cmd_reproduce_gaussian(const Global& g, ReproduceRequest& req, bool ablation = false);
// The MI estimators against a known truth; `figure` draws (GUI builds) or is empty.
int cmd_reproduce_mi_calibration(
    const CalibrationRequest& req,
    const std::function<void(const std::vector<CalibrationRow>&, const std::string&)>& figure);
// The rows of a calibration.json; ConfigError naming the file when it is not one.
std::vector<CalibrationRow> read_calibration(const std::string& path);
int cmd_runs(const Global& g, const std::string& format, const std::string& dataset, const std::string& method,
             const std::string& status, const std::string& tag);
int cmd_show(const Global& g, const std::string& run, const std::string& format);
int cmd_methods(const std::string& format);
int cmd_export_table(const Global& g, const ExportRequest& req);
int cmd_settings(const std::string& format);
int cmd_datasets(const std::string& format);
// Loads the engine: LibTorch's version and whether CUDA is available.
int cmd_devices();
struct WeightsRequest {
  std::string run;  // id or name
  std::string encoder = "f";
  std::string part = "all";  // all | backbone | projector
  std::string out;
};
int cmd_export_weights(const Global& g, const WeightsRequest& req);
int cmd_bench(const BenchRequest& req);
struct TrainBenchRequest {
  std::string encoders = "small-cnn,resnet18";
  std::string methods;  // empty: all
  int steps = 3;
  int batch_small = 256, batch_resnet = 64;
  std::string device = "auto";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
};
int cmd_bench_train(const TrainBenchRequest& req);
struct ParallelBenchRequest {
  int nproc = 2;
  int epochs = 2;        // image epochs (the Gaussian case trains 100)
  int repeats = 1;
  std::string cases = "fashion-mnist,gaussian";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
};
int cmd_bench_parallel(const ParallelBenchRequest& req);
// Exec-to-exit times of the light commands and of one that loads LibTorch,
// each a fresh process; with `window`, the window's time to first paint and
// to LibTorch loaded (GUI builds, needs a display).
int cmd_bench_startup(int repeats, bool window);
struct SweepRequest {
  std::string file;        // a sweep file, or the name of a shipped one
  std::string format = "text";
  int jobs = 1;            // worker processes
  std::string shard;       // "i/K": only every K-th run, from i
  bool retry_failed = false;
  std::vector<std::pair<std::string, std::string>> settings;  // --set: into the sweep's base
  unsigned long long max_runs = 0;  // --max-runs (0: the file's, else the default)
};
struct SlurmRequest {
  std::string file, out, partition, time, mem, account, exe;
  std::vector<std::pair<std::string, std::string>> settings;
  unsigned long long max_runs = 0;
  int shards = 8;
  int gpus_per_task = 0, cpus_per_task = 0;
};
int cmd_sweep_plan(const SweepRequest& req);
int cmd_sweep_run(const Global& g, const SweepRequest& req);
// One worker process of `sweep run --jobs N` (internal).
int cmd_sweep_work(const Global& g, const std::string& sweep);
int cmd_sweep_status(const Global& g, const std::string& sweep, const std::string& format);
int cmd_sweep_report(const Global& g, const std::string& sweep, const std::string& format, const std::string& out);
int cmd_sweep_slurm(const SlurmRequest& req);
int cmd_merge(const std::vector<std::string>& shards, const std::string& into, bool quiet);

// GUI builds only (Qt Charts, VTK): app/cmd_figure.cpp.
int cmd_export_figure(const Global& g, const FigureRequest& req);
int write_reproduce_figures(const Global& g, const std::string& tag, const std::string& dir);
void write_calibration_figure(const std::vector<CalibrationRow>& rows, const std::string& path);

// Signal handling for runs: the first SIGINT, SIGTERM or SIGHUP (terminal
// closed, SSH dropped) asks the trainer to stop after the current step, which
// checkpoints and stores the run as interrupted; a second one a second later
// ends the process. SIGPIPE is ignored: a closed stdout stops the printing,
// not the training. SIGQUIT keeps its default (quit at once, core dump).
void install_stop_handlers();
bool stop_requested();
const StopFlag* stop_flag();

// This program's path, and this program started again with `args` (after
// argv[0]) and extra environment variables; returns the child's pid.
// `parent_death_signal` (0: none) is sent to the child when this process dies.
std::string self_exe();
pid_t spawn_self(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& env,
                 int parent_death_signal);

}  // namespace ssrl::app
