#pragma once
// The run database: SQLite only, no torch. Every run, setting and metric
// lives here; the CLI and the GUI read the same file.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ssrl/records.hpp"

struct sqlite3;

namespace ssrl::storage {

// What a new run row holds before it starts.
struct NewRun {
  std::string name;
  std::string method;       // as typed, may be a variant
  std::string base_method;
  std::string paradigm;
  std::string dataset;
  std::string config_json;  // the full resolved config
  std::int64_t seed = 0;
  int epochs_planned = 0;
  std::string tag;          // groups runs, e.g. one `reproduce` invocation
  std::string program_version;
  std::string uid;          // "" = a fresh random one
  // Sweep runs only.
  std::optional<std::int64_t> sweep_id;
  int sweep_index = 0;
  std::string sweep_point;  // JSON: {"method": ..., axis: value, ...}
};

// A sweep as stored: its plan's identity and what it holds now.
struct NewSweep {
  std::string uid;   // stable digest of the plan: the same file gives the same sweep
  std::string name;
  std::string spec_json;
  std::string axes_json;  // the axis keys, a JSON list
  int planned = 0;        // runs in the whole plan (a shard stores a part)
};

struct SweepRow {
  std::int64_t id = 0;
  std::string uid, name, spec_json, axes_json, created_at;
  int planned = 0;
  int stored = 0;  // runs in this database
  int queued = 0, running = 0, finished = 0, failed = 0, interrupted = 0, diverged = 0;
  double finished_wall_seconds = 0;  // sum of start-to-finish times of finished runs
  double running_progress = 0;       // sum over running runs of the fraction of epochs done
};

struct MergeStats {
  int sweeps_added = 0;
  int runs_added = 0;     // not in the target before
  int runs_replaced = 0;  // the shard's copy had got further
  int runs_present = 0;   // already there, as far along: left alone
};

// One line of the run list.
struct RunRow {
  std::int64_t id = 0;
  std::string name, method, base_method, paradigm, dataset, status, device, message, tag;
  std::string config_json;
  std::int64_t seed = 0;
  int epochs_planned = 0;
  int epochs_done = 0;
  std::string created_at, started_at, finished_at, program_version;
  double seconds = 0;   // training wall time, sum over stored epochs
  MiEstimates last_mi;  // of the last stored epoch
  std::optional<double> min_separation;  // encoder f, degrees
  std::vector<EncoderFinal> finals;      // separation per encoder (no centres)
  std::vector<ProbeResult> probes;       // linear probe per encoder (image data)
  std::optional<double> probe_top1;      // encoder f
  std::optional<double> last_embedding_std, last_effective_rank, last_knn_top1;  // of the last stored epoch
  std::string checkpoint;                // the last checkpoint file ('' = none)
  int checkpoint_epoch = 0;
  std::string uid;
  std::optional<std::int64_t> sweep_id;
  int sweep_index = 0;
  std::string sweep_point;  // JSON, "" outside sweeps
};

struct RunDetail {
  RunRow run;
  std::vector<EpochRecord> epochs;  // with centres per encoder
  std::vector<EncoderFinal> finals;
};

struct LogLine {
  std::string at;     // UTC, ISO 8601
  std::string level;  // info | warning | error
  std::string text;
};

struct RunFilter {
  std::optional<std::string> dataset;
  std::optional<std::string> method;
  std::optional<std::string> status;
  std::optional<std::string> tag;
  std::optional<std::int64_t> sweep_id;
  std::vector<std::int64_t> ids;  // empty: all
};

class Database {
 public:
  // $XDG_DATA_HOME/ssrl-workbench/workbench.db (~/.local/share/... by default).
  static std::string default_path();

  enum class Mode { ReadWrite, ReadOnly };
  // Opens (creating the file and its folder in ReadWrite mode) and migrates
  // the schema. Throws StorageError naming the file and the problem.
  // A writer holding the file waits up to busy_timeout_ms before giving up.
  explicit Database(const std::string& path, Mode mode = Mode::ReadWrite, int busy_timeout_ms = 10000);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  int schema_version() const;
  static int latest_schema_version();

  std::int64_t create_run(const NewRun& run);  // status queued
  void mark_running(std::int64_t run_id, const std::string& device);
  // One transaction: the epoch row and its cluster centres.
  void append_epoch(std::int64_t run_id, const EpochRecord& record);
  void finish_run(std::int64_t run_id, const RunOutcome& outcome);
  void set_checkpoint(std::int64_t run_id, int epoch, const std::string& path);
  // Drops what was stored after `from_epoch` (a killed run may have written
  // epochs its checkpoint does not hold) and queues the run again.
  void prepare_resume(std::int64_t run_id, int from_epoch);
  // A fresh folder name for one run's checkpoints, beside the database:
  // <dir>/checkpoints/run-<UTC time>-<pid>-<n> (not created here).
  std::string new_checkpoint_dir() const;

  std::vector<RunRow> list_runs(const RunFilter& filter = {}) const;
  // By numeric id, or else by exact name (the newest run of that name).
  std::optional<RunDetail> load_run(const std::string& id_or_name) const;
  std::optional<RunDetail> load_run(std::int64_t id) const;
  std::vector<EpochRecord> load_epochs(std::int64_t run_id, bool with_centres) const;

  // Runs left 'running' by a process of this host that no longer exists
  // become 'interrupted'. Returns how many.
  int mark_abandoned_runs();

  void append_log(std::int64_t run_id, const std::string& level, const std::string& text);
  std::vector<LogLine> load_log(std::int64_t run_id) const;
  void rename_run(std::int64_t run_id, const std::string& name);
  void set_tag(std::int64_t run_id, const std::string& tag);
  // Removes the run and everything stored with it, in one transaction.
  void delete_run(std::int64_t run_id);

  // Sweeps. ensure_sweep records the sweep (or finds it by uid) and adds the
  // runs it does not hold yet (by sweep index), in one transaction; returns
  // the sweep's id.
  std::int64_t ensure_sweep(const NewSweep& sweep, const std::vector<NewRun>& runs);
  std::vector<SweepRow> list_sweeps() const;
  // By numeric id, or else by name (the newest sweep of that name).
  std::optional<SweepRow> find_sweep(const std::string& id_or_name) const;
  // Atomically takes the sweep's next queued run (lowest index) and marks it
  // running for this process; nullopt when none is left. Safe with several
  // processes claiming from the same file.
  std::optional<std::int64_t> claim_run(std::int64_t sweep_id);
  // Puts the sweep's interrupted runs back in the queue (and failed ones with
  // `failed_too`; runs marked running with `running_too`, for a database
  // only one worker uses). A run with a checkpoint keeps the epochs it holds
  // and resumes; one without starts again. Returns how many.
  int requeue_sweep_runs(std::int64_t sweep_id, bool failed_too, bool running_too);

  // Copies every run of `shard` (another workbench database) this database
  // lacks, or holds less of, with all its epochs, statistics and log, and the
  // sweeps they belong to; one transaction. Merging twice adds nothing.
  MergeStats merge_from(const std::string& shard);

  // The newest tag that starts with `prefix`, or "".
  std::string latest_tag(const std::string& prefix) const;

  sqlite3* handle() const { return db_; }

 private:
  void migrate();
  std::string path_;
  sqlite3* db_ = nullptr;
  bool read_only_ = false;
};

}  // namespace ssrl::storage
