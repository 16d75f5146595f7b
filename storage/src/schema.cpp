// Opening the database file: checks, pragmas, the application id and the
// schema migrations.
#include <sys/statvfs.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "sqlite.hpp"
#include "ssrl/storage/database.hpp"

namespace ssrl::storage {
namespace {

constexpr int kApplicationId = 0x5353524C;  // "SSRL"

// Schema migrations, applied in order; entry k brings user_version to k + 1.
// Never edit a shipped entry: append a new one. A new table whose rows
// belong to one run also gets its line in kRunTables (database_impl.hpp).
const char* const kMigrations[] = {
    // v1: runs, per-epoch metrics, per-epoch cluster centres, final statistics.
    R"sql(
CREATE TABLE runs (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL,
  method          TEXT NOT NULL,
  base_method     TEXT NOT NULL,
  paradigm        TEXT NOT NULL,
  dataset         TEXT NOT NULL,
  config          TEXT NOT NULL CHECK (json_valid(config)),
  seed            INTEGER NOT NULL,
  device          TEXT NOT NULL DEFAULT '',
  status          TEXT NOT NULL CHECK (status IN
                    ('queued','running','finished','failed','interrupted','diverged')),
  message         TEXT NOT NULL DEFAULT '',
  tag             TEXT NOT NULL DEFAULT '',
  epochs_planned  INTEGER NOT NULL,
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  started_at      TEXT,
  finished_at     TEXT,
  program_version TEXT NOT NULL,
  host            TEXT NOT NULL DEFAULT '',
  pid             INTEGER
);
CREATE INDEX runs_by_tag ON runs(tag);
CREATE INDEX runs_by_method ON runs(dataset, method);
CREATE TABLE epochs (
  run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch           INTEGER NOT NULL,
  loss            REAL,
  loss_e          REAL,
  loss_m          REAL,
  mi_cos_dv       REAL,
  mi_infonce      REAL,
  mi_jsd          REAL,
  embedding_std   REAL,
  effective_rank  REAL,
  lr              REAL,
  seconds         REAL,
  PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE centres (
  run_id   INTEGER NOT NULL,
  epoch    INTEGER NOT NULL,
  encoder  TEXT NOT NULL,
  cluster  INTEGER NOT NULL,
  x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,
  PRIMARY KEY (run_id, encoder, epoch, cluster),
  FOREIGN KEY (run_id, epoch) REFERENCES epochs(run_id, epoch) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE final_stats (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  encoder      TEXT NOT NULL,
  nn_gap_mean  REAL NOT NULL,
  nn_gap_min   REAL NOT NULL,
  nn_gap_max   REAL NOT NULL,
  nn_gap_sd    REAL NOT NULL,
  PRIMARY KEY (run_id, encoder)
) WITHOUT ROWID;
)sql",
    // v2: a log per run (start, finish, errors, user notes).
    R"sql(
CREATE TABLE run_log (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  level   TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
  text    TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql",
    // v3: real image data: kNN monitor per epoch, linear probes, checkpoints.
    R"sql(
ALTER TABLE epochs ADD COLUMN knn_top1_k20 REAL;
ALTER TABLE epochs ADD COLUMN knn_top1_k200 REAL;
ALTER TABLE runs ADD COLUMN checkpoint TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN checkpoint_epoch INTEGER NOT NULL DEFAULT 0;
CREATE TABLE probes (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  encoder     TEXT NOT NULL,
  top1        REAL NOT NULL CHECK (top1 >= 0 AND top1 <= 1),
  epochs      INTEGER NOT NULL,
  train_size  INTEGER NOT NULL,
  test_size   INTEGER NOT NULL,
  PRIMARY KEY (run_id, encoder)
) WITHOUT ROWID;
)sql",
    // v4: sweeps. A run belongs to at most one sweep, at a fixed index; every
    // run has a uid that survives merging shard databases into one.
    R"sql(
CREATE TABLE sweeps (
  id          INTEGER PRIMARY KEY,
  uid         TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL,
  spec        TEXT NOT NULL CHECK (json_valid(spec)),
  planned     INTEGER NOT NULL,
  axes        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(axes)),
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
ALTER TABLE runs ADD COLUMN uid TEXT;
UPDATE runs SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX runs_by_uid ON runs(uid);
ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id);
ALTER TABLE runs ADD COLUMN sweep_index INTEGER;
ALTER TABLE runs ADD COLUMN sweep_point TEXT;
CREATE UNIQUE INDEX runs_by_sweep ON runs(sweep_id, sweep_index);
)sql",
    // v5: collapse indicators per encoder at two levels (projection and
    // backbone features), the affine output norm's scale; whether the probe
    // standardised its features (runs before v6 always did).
    R"sql(
CREATE TABLE collapse (
  run_id          INTEGER NOT NULL,
  epoch           INTEGER NOT NULL,
  encoder         TEXT NOT NULL,
  proj_std        REAL,
  proj_rank       REAL,
  feat_std        REAL,
  feat_rank       REAL,
  out_scale_norm  REAL,
  PRIMARY KEY (run_id, epoch, encoder),
  FOREIGN KEY (run_id, epoch) REFERENCES epochs(run_id, epoch) ON DELETE CASCADE
) WITHOUT ROWID;
ALTER TABLE probes ADD COLUMN standardised INTEGER NOT NULL DEFAULT 1;
)sql",
};
constexpr int kLatest = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

int pragma_int(sqlite3* db, const char* pragma) {
  return static_cast<int>(query_integer(db, std::string("PRAGMA ") + pragma, pragma));
}

}  // namespace

std::string Database::default_path() {
  namespace fs = std::filesystem;
  fs::path base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = fs::path(home) / ".local" / "share";
  } else {
    base = fs::current_path();
  }
  return (base / "ssrl-workbench" / "workbench.db").string();
}


int Database::latest_schema_version() { return kLatest; }

namespace {

// A file system mounted read-only, or a folder this process may not write in:
// SQLite cannot create the -wal/-shm files there.
bool folder_read_only(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0) return true;
  return ::access(dir.c_str(), W_OK) != 0;
}

// file:<path>?immutable=1, for reading a database nothing can write.
std::string immutable_uri(const std::string& path) {
  std::string abs = std::filesystem::absolute(path).string(), uri = "file:";
  for (unsigned char c : abs) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_') {
      uri += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      uri += buf;
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

Database::Database(const std::string& path, Mode mode, int busy_timeout_ms)
    : path_(path), read_only_(mode == Mode::ReadOnly) {
  namespace fs = std::filesystem;
  const std::string where = "database '" + path + "'";
  std::error_code ec;
  const auto type = fs::status(path, ec).type();
  if (read_only_ && type == fs::file_type::not_found) throw StorageError(where + ": no such file");
  if (type == fs::file_type::directory) throw StorageError(where + ": is a directory, not a file");
  if (type != fs::file_type::not_found && type != fs::file_type::regular) throw StorageError(where + ": is not a regular file");
  if (!read_only_) {
    if (const auto parent = fs::path(path).parent_path(); !parent.empty()) {
      fs::create_directories(parent, ec);
      if (ec) throw StorageError(where + ": cannot create folder " + parent.string() + ": " + ec.message());
    }
    if (folder_read_only(path) || (type == fs::file_type::regular && ::access(path.c_str(), W_OK) != 0))
      throw StorageError(where + ": is read-only (a read-only file system, or no write permission on the file or its folder), "
                                 "and this command writes to it; runs, show, export and sweep status|report only read");
  }
  const std::uintmax_t bytes = type == fs::file_type::regular ? fs::file_size(path, ec) : 0;
  // On read-only media SQLite cannot create the -shm file of a WAL database;
  // nothing can write there either, so the file is read as immutable.
  const bool immutable = read_only_ && folder_read_only(path);
  const int flags = read_only_ ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const std::string name = immutable ? immutable_uri(path) : path;
  const int rc = sqlite3_open_v2(name.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX | (immutable ? SQLITE_OPEN_URI : 0), nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError(where + ": cannot open: " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    sqlite3_extended_result_codes(db_, 1);
    // Everything here only reads; nothing is written before the file is known
    // to be ours, or to be new (zero bytes).
    const int app_id = pragma_int(db_, "application_id");
    const int tables = static_cast<int>(query_integer(db_, "SELECT COUNT(*) AS n FROM sqlite_schema", "n"));
    const int version = schema_version();
    if (app_id != kApplicationId && (app_id != 0 || tables > 0 || version != 0 || bytes > 0))
      throw StorageError(where + ": is an SQLite file but not an SSRL Workbench database (application id " +
                         std::to_string(app_id) + ", " + std::to_string(tables) + " tables, user version " +
                         std::to_string(version) + "); refusing to touch it");
    if (version > kLatest)
      throw StorageError(where + ": written by a newer SSRL Workbench (schema v" + std::to_string(version) +
                         ", this program knows up to v" + std::to_string(kLatest) + ")");
    exec(db_, "PRAGMA foreign_keys = ON", "enabling foreign keys");
    if (!read_only_) {
      // The id first: a file cut off after this point is still known as ours.
      if (app_id == 0) exec(db_, ("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str(), "tagging the file");
      exec(db_, "PRAGMA journal_mode = WAL", "switching to WAL");
      exec(db_, "PRAGMA synchronous = NORMAL", "setting synchronous");
      migrate();
    } else if (tables == 0) {
      throw StorageError(where + ": is empty (" + std::to_string(bytes) + " bytes, no tables): no runs stored yet");
    } else if (version < kLatest) {
      // An older file: readers query the current schema, so upgrade it once
      // (the migrations only add) and read the upgraded file.
      sqlite3_close(db_);
      db_ = nullptr;
      try {
        Database upgrade(path, Mode::ReadWrite, busy_timeout_ms);
      } catch (const StorageError& e) {
        throw StorageError(std::string(e.what()) + " (the file has an older schema and must be upgraded once with write access)");
      }
      if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
        throw StorageError(where + ": cannot open: " + sqlite3_errmsg(db_));
      sqlite3_busy_timeout(db_, busy_timeout_ms);
      sqlite3_extended_result_codes(db_, 1);
      exec(db_, "PRAGMA foreign_keys = ON", "enabling foreign keys");
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  if (db_ != nullptr) sqlite3_close(db_);
}

int Database::schema_version() const { return pragma_int(db_, "user_version"); }

void Database::migrate() {
  if (schema_version() == kLatest) return;
  Transaction tx(db_);
  int version = schema_version();
  if (version > kLatest)
    throw StorageError("database '" + path_ + "': written by a newer SSRL Workbench (schema v" +
                       std::to_string(version) + ", this program knows up to v" + std::to_string(kLatest) + ")");
  if (version == kLatest) return;  // rolled back: nothing to do
  for (; version < kLatest; ++version) {
    exec(db_, kMigrations[version], "migrating the schema to v" + std::to_string(version + 1));
    exec(db_, ("PRAGMA user_version = " + std::to_string(version + 1)).c_str(), "recording the schema version");
  }
  tx.commit();
}

}  // namespace ssrl::storage
