// Merging a shard database (another workbench file, e.g. one Slurm array
// task's) into this one.
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "database_impl.hpp"
#include "sqlite.hpp"

namespace ssrl::storage {
namespace {

// The columns of `table` in the main database, in their declared order.
std::vector<std::string> table_columns(sqlite3* db, const char* table) {
  Statement st(db, "SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid");
  st.bind(1, std::string(table));
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.row().text("name"));
  if (out.empty()) throw StorageError(std::string("programming error: no table '") + table + "' to merge");
  return out;
}

// Copies the rows of one per-run table for the runs listed in
// temp.merge_uids, every column, the run id mapped to this database's.
std::string copy_run_rows_sql(sqlite3* db, const RunTable& t) {
  std::string into, select;
  for (const auto& c : table_columns(db, t.name)) {
    const std::string quoted = "\"" + c + "\"";
    into += (into.empty() ? "" : ", ") + quoted;
    select += (select.empty() ? "" : ", ") + (c == t.run_column ? std::string("m.id") : "t." + quoted);
  }
  return std::string("INSERT INTO main.") + t.name + " (" + into + ") SELECT " + select + " FROM shard." + t.name +
         " t JOIN shard.runs r ON r.id = t." + t.run_column +
         " JOIN main.runs m ON m.uid = r.uid WHERE r.uid IN (SELECT uid FROM temp.merge_uids)";
}

}  // namespace

MergeStats Database::merge_from(const std::string& shard_path) {
  namespace fs = std::filesystem;
  {
    // Opening checks it is a workbench database of a schema this program reads.
    Database shard(shard_path, Mode::ReadOnly);
    if (shard.schema_version() != latest_schema_version())
      throw StorageError("database '" + shard_path + "': schema v" + std::to_string(shard.schema_version()) +
                         "; open it once with this version (e.g. `ssrl-workbench --db " + shard_path +
                         " runs`) to upgrade it before merging");
    // Every page of the shard read here, on its own connection, so that a
    // damaged shard is named as such rather than the target it is attached to.
    Statement check(shard.db_, "PRAGMA quick_check");
    const std::string verdict = check.step() ? check.row().text("quick_check") : "no answer";
    if (verdict != "ok") throw StorageError("database '" + shard_path + "': damaged (" + verdict + "); nothing was merged");
  }
  std::error_code ec;
  if (fs::equivalent(shard_path, path_, ec))
    throw StorageError("merge: '" + shard_path + "' is the target database itself");
  {
    Statement at(db_, "ATTACH DATABASE ? AS shard");
    at.bind(1, shard_path);
    at.run();
  }
  struct Detach {
    sqlite3* db;
    ~Detach() { sqlite3_exec(db, "DETACH DATABASE shard", nullptr, nullptr, nullptr); }
  } detach{db_};
  MergeStats stats;
  Transaction tx(db_);
  auto count = [&](const std::string& sql) { return static_cast<int>(query_integer(db_, sql, "n")); };
  auto run_sql = [&](const std::string& sql) {
    Statement st(db_, sql);
    st.run();
  };
  stats.sweeps_added = count("SELECT COUNT(*) AS n FROM shard.sweeps WHERE uid NOT IN (SELECT uid FROM main.sweeps)");
  run_sql("INSERT INTO main.sweeps (uid, name, spec, planned, axes, created_at) "
          "SELECT uid, name, spec, planned, axes, created_at FROM shard.sweeps WHERE uid NOT IN (SELECT uid FROM main.sweeps)");
  run_sql("CREATE TEMP TABLE IF NOT EXISTS merge_uids (uid TEXT PRIMARY KEY, replace INTEGER NOT NULL)");
  run_sql("DELETE FROM temp.merge_uids");
  // New runs, and runs the shard holds further along (finished there but not
  // here, or with more epochs).
  run_sql("INSERT INTO temp.merge_uids SELECT uid, 0 FROM shard.runs WHERE uid NOT IN (SELECT uid FROM main.runs)");
  run_sql("INSERT INTO temp.merge_uids SELECT r.uid, 1 FROM shard.runs r JOIN main.runs m ON m.uid = r.uid "
          "WHERE m.status <> 'finished' AND (r.status = 'finished' OR "
          "(SELECT COUNT(*) FROM shard.epochs e WHERE e.run_id = r.id) > (SELECT COUNT(*) FROM main.epochs e WHERE e.run_id = m.id))");
  stats.runs_added = count("SELECT COUNT(*) AS n FROM temp.merge_uids WHERE replace = 0");
  stats.runs_replaced = count("SELECT COUNT(*) AS n FROM temp.merge_uids WHERE replace = 1");
  stats.runs_present = count("SELECT COUNT(*) AS n FROM shard.runs") - stats.runs_added - stats.runs_replaced;
  // Runs to replace: their rows first (children before parents), then the runs.
  for (auto t = std::rbegin(kRunTables); t != std::rend(kRunTables); ++t)
    run_sql(std::string("DELETE FROM main.") + t->name + " WHERE " + t->run_column +
            " IN (SELECT id FROM main.runs WHERE uid IN (SELECT uid FROM temp.merge_uids WHERE replace = 1))");
  run_sql("DELETE FROM main.runs WHERE uid IN (SELECT uid FROM temp.merge_uids WHERE replace = 1)");
  // A run still marked running in a shard belongs to a process on another
  // machine: here it is interrupted until a later merge brings it finished.
  run_sql("INSERT INTO main.runs (name, method, base_method, paradigm, dataset, config, seed, device, status, message, tag, "
          "epochs_planned, created_at, started_at, finished_at, program_version, host, pid, checkpoint, checkpoint_epoch, "
          "uid, sweep_id, sweep_index, sweep_point) "
          "SELECT r.name, r.method, r.base_method, r.paradigm, r.dataset, r.config, r.seed, r.device, "
          "CASE r.status WHEN 'running' THEN 'interrupted' ELSE r.status END, "
          "CASE r.status WHEN 'running' THEN 'still running in the shard it was merged from' ELSE r.message END, "
          "r.tag, r.epochs_planned, r.created_at, r.started_at, r.finished_at, r.program_version, r.host, NULL, "
          "r.checkpoint, r.checkpoint_epoch, r.uid, "
          "(SELECT m.id FROM main.sweeps m JOIN shard.sweeps ss ON ss.uid = m.uid WHERE ss.id = r.sweep_id), "
          "r.sweep_index, r.sweep_point FROM shard.runs r WHERE r.uid IN (SELECT uid FROM temp.merge_uids) ORDER BY r.id");
  // Then every per-run table's rows of those runs, parents first.
  for (const auto& t : kRunTables) run_sql(copy_run_rows_sql(db_, t));
  tx.commit();
  return stats;
}

}  // namespace ssrl::storage
