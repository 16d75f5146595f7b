// Sweeps: recording a plan, its status, and the queue of its runs that
// worker processes claim from.
#include <unistd.h>

#include <cstdlib>

#include "database_impl.hpp"
#include "sqlite.hpp"

namespace ssrl::storage {

std::int64_t Database::ensure_sweep(const NewSweep& sweep, const std::vector<NewRun>& runs) {
  Transaction tx(db_);
  std::int64_t id = 0;
  {
    Statement find(db_, "SELECT id FROM sweeps WHERE uid = ?");
    find.bind(1, sweep.uid);
    if (find.step()) id = find.row().integer("id");
  }
  if (id == 0) {
    Statement st(db_, "INSERT INTO sweeps (uid, name, spec, planned, axes) VALUES (?,?,?,?,?)");
    st.bind(1, sweep.uid).bind(2, sweep.name).bind(3, sweep.spec_json).bind(4, sweep.planned).bind(5, sweep.axes_json);
    st.run();
    id = sqlite3_last_insert_rowid(db_);
  }
  std::vector<bool> have;
  {
    Statement st(db_, "SELECT sweep_index FROM runs WHERE sweep_id = ?");
    st.bind(1, id);
    while (st.step()) {
      const auto k = static_cast<std::size_t>(st.row().integer("sweep_index"));
      if (k >= have.size()) have.resize(k + 1, false);
      have[k] = true;
    }
  }
  const std::string host = hostname();
  for (auto run : runs) {
    const auto k = static_cast<std::size_t>(run.sweep_index);
    if (k < have.size() && have[k]) continue;
    run.sweep_id = id;
    insert_run(db_, run, host);
  }
  tx.commit();
  return id;
}

namespace {

// One pass over the sweep's runs gives every count.
const char* kSweepColumns =
    "s.id, s.uid, s.name, s.spec, s.axes, s.created_at, s.planned, "
    "IFNULL(c.stored, 0) AS stored, IFNULL(c.queued, 0) AS queued, IFNULL(c.running, 0) AS running, "
    "IFNULL(c.finished, 0) AS finished, IFNULL(c.failed, 0) AS failed, IFNULL(c.interrupted, 0) AS interrupted, "
    "IFNULL(c.diverged, 0) AS diverged, IFNULL(c.wall, 0) AS wall, IFNULL(c.progress, 0) AS progress "
    "FROM sweeps s LEFT JOIN (SELECT sweep_id, COUNT(*) AS stored, "
    " SUM(status = 'queued') AS queued, SUM(status = 'running') AS running, SUM(status = 'finished') AS finished, "
    " SUM(status = 'failed') AS failed, SUM(status = 'interrupted') AS interrupted, SUM(status = 'diverged') AS diverged, "
    " SUM(CASE WHEN status IN ('finished', 'diverged') AND started_at IS NOT NULL "
    "     THEN (julianday(finished_at) - julianday(started_at)) * 86400 ELSE 0 END) AS wall, "
    " SUM(CASE WHEN status = 'running' AND epochs_planned > 0 THEN MIN(1.0, "
    "     (SELECT COUNT(*) FROM epochs e WHERE e.run_id = runs.id) * 1.0 / epochs_planned) ELSE 0 END) AS progress "
    " FROM runs WHERE sweep_id IS NOT NULL GROUP BY sweep_id) c ON c.sweep_id = s.id ";

SweepRow read_sweep(const Row& row) {
  SweepRow w;
  w.id = row.integer("id");
  w.uid = row.text("uid");
  w.name = row.text("name");
  w.spec_json = row.text("spec");
  w.axes_json = row.text("axes");
  w.created_at = row.text("created_at");
  w.planned = static_cast<int>(row.integer("planned"));
  w.stored = static_cast<int>(row.integer("stored"));
  w.queued = static_cast<int>(row.integer("queued"));
  w.running = static_cast<int>(row.integer("running"));
  w.finished = static_cast<int>(row.integer("finished"));
  w.failed = static_cast<int>(row.integer("failed"));
  w.interrupted = static_cast<int>(row.integer("interrupted"));
  w.diverged = static_cast<int>(row.integer("diverged"));
  w.finished_wall_seconds = row.real("wall");
  w.running_progress = row.real("progress");
  return w;
}

}  // namespace

std::vector<SweepRow> Database::list_sweeps() const {
  Statement st(db_, std::string("SELECT ") + kSweepColumns + "ORDER BY s.id");
  std::vector<SweepRow> out;
  while (st.step()) out.push_back(read_sweep(st.row()));
  return out;
}

std::optional<SweepRow> Database::find_sweep(const std::string& id_or_name) const {
  if (!id_or_name.empty() && id_or_name.find_first_not_of("0123456789") == std::string::npos) {
    Statement st(db_, std::string("SELECT ") + kSweepColumns + "WHERE s.id = ?");
    st.bind(1, static_cast<std::int64_t>(std::strtoll(id_or_name.c_str(), nullptr, 10)));
    if (st.step()) return read_sweep(st.row());
  }
  Statement st(db_, std::string("SELECT ") + kSweepColumns + "WHERE s.name = ?1 OR s.uid = ?1 ORDER BY s.id DESC LIMIT 1");
  st.bind(1, id_or_name);
  if (st.step()) return read_sweep(st.row());
  return std::nullopt;
}

std::optional<std::int64_t> Database::claim_run(std::int64_t sweep_id) {
  // BEGIN IMMEDIATE takes the write lock first: two workers cannot both see
  // the same run as queued.
  Transaction tx(db_);
  std::int64_t id = 0;
  {
    Statement st(db_, "SELECT id FROM runs WHERE sweep_id = ? AND status = 'queued' ORDER BY sweep_index LIMIT 1");
    st.bind(1, sweep_id);
    if (!st.step()) return std::nullopt;
    id = st.row().integer("id");
  }
  Statement st(db_,
               "UPDATE runs SET status = 'running', pid = ?, host = ?, "
               "started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?");
  st.bind(1, static_cast<std::int64_t>(getpid())).bind(2, hostname()).bind(3, id);
  st.run();
  append_log(id, "info", "claimed by pid " + std::to_string(getpid()) + " on " + hostname());
  tx.commit();
  return id;
}

int Database::requeue_sweep_runs(std::int64_t sweep_id, bool failed_too, bool running_too) {
  std::string states = "'interrupted'";
  if (failed_too) states += ", 'failed'";
  if (running_too) states += ", 'running'";
  std::vector<std::pair<std::int64_t, int>> runs;
  {
    Statement st(db_, "SELECT id, CASE WHEN checkpoint <> '' THEN checkpoint_epoch ELSE 0 END AS from_epoch FROM runs "
                      "WHERE sweep_id = ? AND status IN (" + states + ")");
    st.bind(1, sweep_id);
    while (st.step()) {
      const Row row = st.row();
      runs.emplace_back(row.integer("id"), static_cast<int>(row.integer("from_epoch")));
    }
  }
  for (const auto& [id, from] : runs) {
    if (from == 0) {
      Statement st(db_, "UPDATE runs SET checkpoint = '', checkpoint_epoch = 0 WHERE id = ?");
      st.bind(1, id);
      st.run();
    }
    prepare_resume(id, from);
  }
  return static_cast<int>(runs.size());
}

}  // namespace ssrl::storage
