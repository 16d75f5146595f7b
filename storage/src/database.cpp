#include "ssrl/storage/database.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "sqlite.hpp"

namespace ssrl::storage {
namespace {

constexpr int kApplicationId = 0x5353524C;  // "SSRL"

// Schema migrations, applied in order; entry k brings user_version to k + 1.
// Never edit a shipped entry: append a new one.
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
};
constexpr int kLatest = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

int pragma_int(sqlite3* db, const char* sql) {
  Statement st(db, sql);
  return st.step() ? static_cast<int>(st.integer(0)) : 0;
}

const char* kRunColumns =
    "r.id, r.name, r.method, r.base_method, r.paradigm, r.dataset, r.status, r.device, r.message, "
    "r.tag, r.config, r.seed, r.epochs_planned, r.created_at, IFNULL(r.started_at,''), "
    "IFNULL(r.finished_at,''), r.program_version, "
    "(SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id), "
    "(SELECT IFNULL(SUM(seconds),0) FROM epochs e WHERE e.run_id = r.id), "
    "le.mi_cos_dv, le.mi_infonce, le.mi_jsd, "
    "(SELECT nn_gap_min FROM final_stats s WHERE s.run_id = r.id AND s.encoder = 'f'), "
    "r.checkpoint, r.checkpoint_epoch, "
    "(SELECT top1 FROM probes p WHERE p.run_id = r.id AND p.encoder = 'f'), "
    "le.embedding_std, le.effective_rank, le.knn_top1_k20, "
    "IFNULL(r.uid, ''), r.sweep_id, IFNULL(r.sweep_index, 0), IFNULL(r.sweep_point, '') "
    "FROM runs r LEFT JOIN epochs le ON le.run_id = r.id AND le.epoch = "
    "(SELECT MAX(epoch) FROM epochs e2 WHERE e2.run_id = r.id) ";

RunRow read_run(const Statement& st) {
  RunRow r;
  r.id = st.integer(0);
  r.name = st.text(1);
  r.method = st.text(2);
  r.base_method = st.text(3);
  r.paradigm = st.text(4);
  r.dataset = st.text(5);
  r.status = st.text(6);
  r.device = st.text(7);
  r.message = st.text(8);
  r.tag = st.text(9);
  r.config_json = st.text(10);
  r.seed = st.integer(11);
  r.epochs_planned = static_cast<int>(st.integer(12));
  r.created_at = st.text(13);
  r.started_at = st.text(14);
  r.finished_at = st.text(15);
  r.program_version = st.text(16);
  r.epochs_done = static_cast<int>(st.integer(17));
  r.seconds = st.real(18);
  r.last_mi.cos_dv = st.opt_real(19);
  r.last_mi.infonce = st.opt_real(20);
  r.last_mi.jsd = st.opt_real(21);
  r.min_separation = st.opt_real(22);
  r.checkpoint = st.text(23);
  r.checkpoint_epoch = static_cast<int>(st.integer(24));
  r.probe_top1 = st.opt_real(25);
  r.last_embedding_std = st.opt_real(26);
  r.last_effective_rank = st.opt_real(27);
  r.last_knn_top1 = st.opt_real(28);
  r.uid = st.text(29);
  if (!st.is_null(30)) r.sweep_id = st.integer(30);
  r.sweep_index = static_cast<int>(st.integer(31));
  r.sweep_point = st.text(32);
  return r;
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

Database::Database(const std::string& path, Mode mode, int busy_timeout_ms)
    : path_(path), read_only_(mode == Mode::ReadOnly) {
  namespace fs = std::filesystem;
  if (read_only_) {
    if (!fs::exists(path)) throw StorageError("database '" + path + "': no such file");
  } else if (const auto parent = fs::path(path).parent_path(); !parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw StorageError("database '" + path + "': cannot create folder " + parent.string() + ": " + ec.message());
  }
  if (fs::is_directory(path)) throw StorageError("database '" + path + "': is a directory, not a file");
  const int flags = read_only_ ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError("database '" + path + "': cannot open: " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    sqlite3_extended_result_codes(db_, 1);
    // Reading the header is the first point where a non-database file fails.
    const int app_id = pragma_int(db_, "PRAGMA application_id");
    const int tables = pragma_int(db_, "SELECT COUNT(*) FROM sqlite_schema");
    if (tables > 0 && app_id != kApplicationId)
      throw StorageError("database '" + path + "': is an SQLite file but not an SSRL Workbench database; refusing to touch it");
    exec(db_, "PRAGMA foreign_keys = ON", "enabling foreign keys");
    if (!read_only_) {
      exec(db_, "PRAGMA journal_mode = WAL", "switching to WAL");
      exec(db_, "PRAGMA synchronous = NORMAL", "setting synchronous");
      migrate();
    } else if (schema_version() > kLatest) {
      throw StorageError("database '" + path + "': written by a newer SSRL Workbench (schema v" +
                         std::to_string(schema_version()) + ", this program knows up to v" +
                         std::to_string(kLatest) + ")");
    } else if (tables > 0 && schema_version() < kLatest) {
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
        throw StorageError("database '" + path + "': cannot open: " + sqlite3_errmsg(db_));
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

int Database::schema_version() const { return pragma_int(db_, "PRAGMA user_version"); }

void Database::migrate() {
  if (schema_version() == kLatest) return;
  Transaction tx(db_);
  int version = schema_version();
  if (version > kLatest)
    throw StorageError("database '" + path_ + "': written by a newer SSRL Workbench (schema v" +
                       std::to_string(version) + ", this program knows up to v" + std::to_string(kLatest) + ")");
  if (version == kLatest) return;  // rolled back: nothing to do
  if (version == 0) exec(db_, ("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str(), "tagging the file");
  for (; version < kLatest; ++version) {
    exec(db_, kMigrations[version], "migrating the schema to v" + std::to_string(version + 1));
    exec(db_, ("PRAGMA user_version = " + std::to_string(version + 1)).c_str(), "recording the schema version");
  }
  tx.commit();
}

namespace {

void insert_run(sqlite3* db, const NewRun& run, const std::string& host) {
  Statement st(db,
               "INSERT INTO runs (name, method, base_method, paradigm, dataset, config, seed, status, "
               "epochs_planned, tag, program_version, host, uid, sweep_id, sweep_index, sweep_point) "
               "VALUES (?,?,?,?,?,?,?, 'queued', ?,?,?,?, COALESCE(NULLIF(?, ''), lower(hex(randomblob(16)))), ?,?,?)");
  st.bind(1, run.name).bind(2, run.method).bind(3, run.base_method).bind(4, run.paradigm);
  st.bind(5, run.dataset).bind(6, run.config_json).bind(7, run.seed).bind(8, run.epochs_planned);
  st.bind(9, run.tag).bind(10, run.program_version).bind(11, host).bind(12, run.uid);
  if (run.sweep_id) {
    st.bind(13, *run.sweep_id).bind(14, run.sweep_index).bind(15, run.sweep_point);
  } else {
    st.bind_null(13).bind_null(14).bind_null(15);
  }
  st.run();
}

}  // namespace

std::int64_t Database::create_run(const NewRun& run) {
  insert_run(db_, run, hostname());
  return sqlite3_last_insert_rowid(db_);
}

void Database::mark_running(std::int64_t run_id, const std::string& device) {
  append_log(run_id, "info", "started on " + device + " (pid " + std::to_string(getpid()) + " on " + hostname() + ")");
  Statement st(db_,
               "UPDATE runs SET status = 'running', device = ?, pid = ?, host = ?, "
               "started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?");
  st.bind(1, device).bind(2, static_cast<std::int64_t>(getpid())).bind(3, hostname()).bind(4, run_id);
  st.run();
}

void Database::append_epoch(std::int64_t run_id, const EpochRecord& r) {
  Transaction tx(db_);
  {
    Statement st(db_,
                 "INSERT INTO epochs (run_id, epoch, loss, loss_e, loss_m, mi_cos_dv, mi_infonce, mi_jsd, "
                 "embedding_std, effective_rank, lr, seconds, knn_top1_k20, knn_top1_k200) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, run_id).bind(2, r.epoch).bind(3, r.loss).bind(4, r.loss_e).bind(5, r.loss_m);
    st.bind(6, r.mi.cos_dv).bind(7, r.mi.infonce).bind(8, r.mi.jsd);
    st.bind(9, r.embedding_std).bind(10, r.effective_rank).bind(11, r.lr).bind(12, r.seconds);
    st.bind(13, r.knn_top1_k20).bind(14, r.knn_top1_k200);
    st.run();
  }
  Statement st(db_, "INSERT INTO centres (run_id, epoch, encoder, cluster, x, y, z) VALUES (?,?,?,?,?,?,?)");
  for (const auto& enc : r.centres) {
    for (std::size_t k = 0; k < enc.centres.size(); ++k) {
      const auto& c = enc.centres[k];
      st.bind(1, run_id).bind(2, r.epoch).bind(3, enc.encoder).bind(4, static_cast<int>(k));
      st.bind(5, c.x).bind(6, c.y).bind(7, c.z);
      st.run();
      st.reset();
    }
  }
  tx.commit();
}

void Database::finish_run(std::int64_t run_id, const RunOutcome& outcome) {
  Transaction tx(db_);
  append_log(run_id, outcome.status == RunStatus::Finished || outcome.status == RunStatus::Interrupted ? "info" : "error",
             std::string(status_name(outcome.status)) + " after " + std::to_string(outcome.epochs_done) + " epochs" +
                 (outcome.message.empty() ? "" : ": " + outcome.message));
  {
    Statement st(db_,
                 "UPDATE runs SET status = ?, message = ?, pid = NULL, "
                 "finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?");
    st.bind(1, std::string(status_name(outcome.status))).bind(2, outcome.message).bind(3, run_id);
    st.run();
  }
  Statement st(db_,
               "INSERT OR REPLACE INTO final_stats (run_id, encoder, nn_gap_mean, nn_gap_min, nn_gap_max, "
               "nn_gap_sd) VALUES (?,?,?,?,?,?)");
  for (const auto& f : outcome.finals) {
    st.bind(1, run_id).bind(2, f.encoder).bind(3, f.separation.mean).bind(4, f.separation.min);
    st.bind(5, f.separation.max).bind(6, f.separation.sd);
    st.run();
    st.reset();
  }
  Statement pr(db_,
               "INSERT OR REPLACE INTO probes (run_id, encoder, top1, epochs, train_size, test_size) VALUES (?,?,?,?,?,?)");
  for (const auto& p : outcome.probes) {
    pr.bind(1, run_id).bind(2, p.encoder).bind(3, p.top1).bind(4, p.epochs).bind(5, p.train_size).bind(6, p.test_size);
    pr.run();
    pr.reset();
  }
  tx.commit();
}

void Database::set_checkpoint(std::int64_t run_id, int epoch, const std::string& path) {
  Statement st(db_, "UPDATE runs SET checkpoint = ?, checkpoint_epoch = ? WHERE id = ?");
  st.bind(1, path).bind(2, epoch).bind(3, run_id);
  st.run();
}

std::string Database::new_checkpoint_dir() const {
  static std::atomic<int> counter{0};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  const auto base = std::filesystem::path(path_).parent_path() / "checkpoints";
  return (base / ("run-" + std::string(stamp) + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter))).string();
}

void Database::prepare_resume(std::int64_t run_id, int from_epoch) {
  Transaction tx(db_);
  for (const char* sql : {"DELETE FROM centres WHERE run_id = ? AND epoch > ?", "DELETE FROM epochs WHERE run_id = ? AND epoch > ?"}) {
    Statement st(db_, sql);
    st.bind(1, run_id).bind(2, from_epoch);
    st.run();
  }
  for (const char* sql : {"DELETE FROM final_stats WHERE run_id = ?", "DELETE FROM probes WHERE run_id = ?"}) {
    Statement st(db_, sql);
    st.bind(1, run_id);
    st.run();
  }
  Statement st(db_, "UPDATE runs SET status = 'queued', message = '' WHERE id = ?");
  st.bind(1, run_id);
  st.run();
  append_log(run_id, "info", "resuming after epoch " + std::to_string(from_epoch));
  tx.commit();
}

std::vector<RunRow> Database::list_runs(const RunFilter& filter) const {
  std::string sql = std::string("SELECT ") + kRunColumns + "WHERE 1=1";
  if (filter.dataset) sql += " AND r.dataset = ?";
  if (filter.method) sql += " AND r.method = ?";
  if (filter.status) sql += " AND r.status = ?";
  if (filter.tag) sql += " AND r.tag = ?";
  if (filter.sweep_id) sql += " AND r.sweep_id = ?";
  if (!filter.ids.empty()) {
    sql += " AND r.id IN (";
    for (std::size_t i = 0; i < filter.ids.size(); ++i) sql += i ? ",?" : "?";
    sql += ")";
  }
  sql += " ORDER BY r.id";
  Statement st(db_, sql.c_str());
  int i = 1;
  if (filter.dataset) st.bind(i++, *filter.dataset);
  if (filter.method) st.bind(i++, *filter.method);
  if (filter.status) st.bind(i++, *filter.status);
  if (filter.tag) st.bind(i++, *filter.tag);
  if (filter.sweep_id) st.bind(i++, *filter.sweep_id);
  for (auto id : filter.ids) st.bind(i++, id);
  std::vector<RunRow> rows;
  std::map<std::int64_t, std::size_t> index;
  while (st.step()) {
    rows.push_back(read_run(st));
    index[rows.back().id] = rows.size() - 1;
  }
  if (rows.empty()) return rows;
  Statement fs(db_,
               "SELECT run_id, encoder, nn_gap_mean, nn_gap_min, nn_gap_max, nn_gap_sd FROM final_stats "
               "WHERE run_id BETWEEN ? AND ? ORDER BY run_id, encoder");
  fs.bind(1, rows.front().id).bind(2, rows.back().id);
  while (fs.step()) {
    const auto it = index.find(fs.integer(0));
    if (it == index.end()) continue;
    EncoderFinal fin;
    fin.encoder = fs.text(1);
    fin.separation = {fs.real(2), fs.real(3), fs.real(4), fs.real(5)};
    rows[it->second].finals.push_back(std::move(fin));
  }
  Statement ps(db_,
               "SELECT run_id, encoder, top1, epochs, train_size, test_size FROM probes "
               "WHERE run_id BETWEEN ? AND ? ORDER BY run_id, encoder");
  ps.bind(1, rows.front().id).bind(2, rows.back().id);
  while (ps.step()) {
    const auto it = index.find(ps.integer(0));
    if (it == index.end()) continue;
    rows[it->second].probes.push_back({ps.text(1), ps.real(2), static_cast<int>(ps.integer(3)), ps.integer(4), ps.integer(5)});
  }
  return rows;
}

std::vector<EpochRecord> Database::load_epochs(std::int64_t run_id, bool with_centres) const {
  std::vector<EpochRecord> out;
  std::map<int, std::size_t> index;
  {
    Statement st(db_,
                 "SELECT epoch, loss, loss_e, loss_m, mi_cos_dv, mi_infonce, mi_jsd, embedding_std, "
                 "effective_rank, lr, seconds, knn_top1_k20, knn_top1_k200 FROM epochs WHERE run_id = ? ORDER BY epoch");
    st.bind(1, run_id);
    while (st.step()) {
      EpochRecord r;
      r.epoch = static_cast<int>(st.integer(0));
      r.loss = st.real(1);
      r.loss_e = st.opt_real(2);
      r.loss_m = st.opt_real(3);
      r.mi.cos_dv = st.opt_real(4);
      r.mi.infonce = st.opt_real(5);
      r.mi.jsd = st.opt_real(6);
      r.embedding_std = st.real(7);
      r.effective_rank = st.real(8);
      r.lr = st.real(9);
      r.seconds = st.real(10);
      r.knn_top1_k20 = st.opt_real(11);
      r.knn_top1_k200 = st.opt_real(12);
      index[r.epoch] = out.size();
      out.push_back(std::move(r));
    }
  }
  if (!with_centres) return out;
  Statement st(db_,
               "SELECT epoch, encoder, cluster, x, y, z FROM centres WHERE run_id = ? "
               "ORDER BY epoch, encoder, cluster");
  st.bind(1, run_id);
  while (st.step()) {
    const auto it = index.find(static_cast<int>(st.integer(0)));
    if (it == index.end()) continue;
    auto& rec = out[it->second];
    const std::string enc = st.text(1);
    if (rec.centres.empty() || rec.centres.back().encoder != enc) rec.centres.push_back({enc, {}});
    rec.centres.back().centres.push_back({st.real(3), st.real(4), st.real(5)});
  }
  return out;
}

std::optional<RunDetail> Database::load_run(std::int64_t id) const {
  RunFilter f;
  f.ids = {id};
  auto rows = list_runs(f);
  if (rows.empty()) return std::nullopt;
  RunDetail d;
  d.run = rows.front();
  d.epochs = load_epochs(id, true);
  Statement st(db_,
               "SELECT encoder, nn_gap_mean, nn_gap_min, nn_gap_max, nn_gap_sd FROM final_stats "
               "WHERE run_id = ? ORDER BY encoder");
  st.bind(1, id);
  while (st.step()) {
    EncoderFinal fin;
    fin.encoder = st.text(0);
    fin.separation = {st.real(1), st.real(2), st.real(3), st.real(4)};
    for (auto it = d.epochs.rbegin(); it != d.epochs.rend() && fin.centres.empty(); ++it)
      for (const auto& ec : it->centres)
        if (ec.encoder == fin.encoder) fin.centres = ec.centres;
    d.finals.push_back(std::move(fin));
  }
  return d;
}

std::optional<RunDetail> Database::load_run(const std::string& id_or_name) const {
  if (!id_or_name.empty() && id_or_name.find_first_not_of("0123456789") == std::string::npos) {
    errno = 0;
    const long long id = std::strtoll(id_or_name.c_str(), nullptr, 10);
    if (errno == 0) {
      if (auto d = load_run(static_cast<std::int64_t>(id))) return d;
    }
  }
  Statement st(db_, "SELECT id FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1");
  st.bind(1, id_or_name);
  if (!st.step()) return std::nullopt;
  return load_run(st.integer(0));
}

int Database::mark_abandoned_runs() {
  if (read_only_) return 0;
  const std::string host = hostname();
  std::vector<std::int64_t> stale;
  std::vector<std::int64_t> pids;
  {
    Statement st(db_, "SELECT id, IFNULL(pid, -1) FROM runs WHERE status = 'running' AND host = ?");
    st.bind(1, host);
    while (st.step()) {
      const std::int64_t pid = st.integer(1);
      const bool alive = pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
      if (!alive) {
        stale.push_back(st.integer(0));
        pids.push_back(pid);
      }
    }
  }
  if (stale.empty()) return 0;
  Transaction tx(db_);
  Statement st(db_,
               "UPDATE runs SET status = 'interrupted', pid = NULL, message = ? "
               "WHERE id = ? AND status = 'running'");
  for (std::size_t i = 0; i < stale.size(); ++i) {
    const std::string why = "the process running it (pid " + std::to_string(pids[i]) + ") ended before it finished";
    st.bind(1, why);
    st.bind(2, stale[i]);
    st.run();
    st.reset();
    append_log(stale[i], "warning", why);
  }
  tx.commit();
  return static_cast<int>(stale.size());
}

void Database::append_log(std::int64_t run_id, const std::string& level, const std::string& text) {
  Statement st(db_,
               "INSERT INTO run_log (run_id, seq, level, text) VALUES "
               "(?1, (SELECT IFNULL(MAX(seq), 0) + 1 FROM run_log WHERE run_id = ?1), ?2, ?3)");
  st.bind(1, run_id).bind(2, level).bind(3, text);
  st.run();
}

std::vector<LogLine> Database::load_log(std::int64_t run_id) const {
  Statement st(db_, "SELECT at, level, text FROM run_log WHERE run_id = ? ORDER BY seq");
  st.bind(1, run_id);
  std::vector<LogLine> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2)});
  return out;
}

void Database::rename_run(std::int64_t run_id, const std::string& name) {
  Statement st(db_, "UPDATE runs SET name = ? WHERE id = ?");
  st.bind(1, name).bind(2, run_id);
  st.run();
  if (sqlite3_changes(db_) == 0) throw StorageError("database '" + path_ + "': no run " + std::to_string(run_id));
}

void Database::set_tag(std::int64_t run_id, const std::string& tag) {
  Statement st(db_, "UPDATE runs SET tag = ? WHERE id = ?");
  st.bind(1, tag).bind(2, run_id);
  st.run();
  if (sqlite3_changes(db_) == 0) throw StorageError("database '" + path_ + "': no run " + std::to_string(run_id));
}

void Database::delete_run(std::int64_t run_id) {
  Transaction tx(db_);
  // Children first: centres reference epochs, which reference the run.
  for (const char* sql : {"DELETE FROM centres WHERE run_id = ?", "DELETE FROM epochs WHERE run_id = ?",
                          "DELETE FROM final_stats WHERE run_id = ?", "DELETE FROM probes WHERE run_id = ?",
                          "DELETE FROM run_log WHERE run_id = ?", "DELETE FROM runs WHERE id = ?"}) {
    Statement st(db_, sql);
    st.bind(1, run_id);
    st.run();
  }
  tx.commit();
}

std::int64_t Database::ensure_sweep(const NewSweep& sweep, const std::vector<NewRun>& runs) {
  Transaction tx(db_);
  std::int64_t id = 0;
  {
    Statement find(db_, "SELECT id FROM sweeps WHERE uid = ?");
    find.bind(1, sweep.uid);
    if (find.step()) id = find.integer(0);
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
      const auto k = static_cast<std::size_t>(st.integer(0));
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
    "IFNULL(c.stored, 0), IFNULL(c.queued, 0), IFNULL(c.running, 0), IFNULL(c.finished, 0), IFNULL(c.failed, 0), "
    "IFNULL(c.interrupted, 0), IFNULL(c.diverged, 0), IFNULL(c.wall, 0), IFNULL(c.progress, 0) "
    "FROM sweeps s LEFT JOIN (SELECT sweep_id, COUNT(*) AS stored, "
    " SUM(status = 'queued') AS queued, SUM(status = 'running') AS running, SUM(status = 'finished') AS finished, "
    " SUM(status = 'failed') AS failed, SUM(status = 'interrupted') AS interrupted, SUM(status = 'diverged') AS diverged, "
    " SUM(CASE WHEN status IN ('finished', 'diverged') AND started_at IS NOT NULL "
    "     THEN (julianday(finished_at) - julianday(started_at)) * 86400 ELSE 0 END) AS wall, "
    " SUM(CASE WHEN status = 'running' AND epochs_planned > 0 THEN MIN(1.0, "
    "     (SELECT COUNT(*) FROM epochs e WHERE e.run_id = runs.id) * 1.0 / epochs_planned) ELSE 0 END) AS progress "
    " FROM runs WHERE sweep_id IS NOT NULL GROUP BY sweep_id) c ON c.sweep_id = s.id ";

SweepRow read_sweep(const Statement& st) {
  SweepRow w;
  w.id = st.integer(0);
  w.uid = st.text(1);
  w.name = st.text(2);
  w.spec_json = st.text(3);
  w.axes_json = st.text(4);
  w.created_at = st.text(5);
  w.planned = static_cast<int>(st.integer(6));
  w.stored = static_cast<int>(st.integer(7));
  w.queued = static_cast<int>(st.integer(8));
  w.running = static_cast<int>(st.integer(9));
  w.finished = static_cast<int>(st.integer(10));
  w.failed = static_cast<int>(st.integer(11));
  w.interrupted = static_cast<int>(st.integer(12));
  w.diverged = static_cast<int>(st.integer(13));
  w.finished_wall_seconds = st.real(14);
  w.running_progress = st.real(15);
  return w;
}

}  // namespace

std::vector<SweepRow> Database::list_sweeps() const {
  Statement st(db_, (std::string("SELECT ") + kSweepColumns + "ORDER BY s.id").c_str());
  std::vector<SweepRow> out;
  while (st.step()) out.push_back(read_sweep(st));
  return out;
}

std::optional<SweepRow> Database::find_sweep(const std::string& id_or_name) const {
  if (!id_or_name.empty() && id_or_name.find_first_not_of("0123456789") == std::string::npos) {
    Statement st(db_, (std::string("SELECT ") + kSweepColumns + "WHERE s.id = ?").c_str());
    st.bind(1, static_cast<std::int64_t>(std::strtoll(id_or_name.c_str(), nullptr, 10)));
    if (st.step()) return read_sweep(st);
  }
  Statement st(db_, (std::string("SELECT ") + kSweepColumns + "WHERE s.name = ?1 OR s.uid = ?1 ORDER BY s.id DESC LIMIT 1").c_str());
  st.bind(1, id_or_name);
  if (st.step()) return read_sweep(st);
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
    id = st.integer(0);
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
    Statement st(db_, ("SELECT id, CASE WHEN checkpoint <> '' THEN checkpoint_epoch ELSE 0 END FROM runs "
                       "WHERE sweep_id = ? AND status IN (" + states + ")").c_str());
    st.bind(1, sweep_id);
    while (st.step()) runs.emplace_back(st.integer(0), static_cast<int>(st.integer(1)));
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

MergeStats Database::merge_from(const std::string& shard_path) {
  namespace fs = std::filesystem;
  {
    // Opening checks it is a workbench database of a schema this program reads.
    Database shard(shard_path, Mode::ReadOnly);
    if (shard.schema_version() != kLatest)
      throw StorageError("database '" + shard_path + "': schema v" + std::to_string(shard.schema_version()) +
                         "; open it once with this version (e.g. `ssrl-workbench --db " + shard_path +
                         " runs`) to upgrade it before merging");
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
  auto count = [&](const char* sql) {
    Statement st(db_, sql);
    return st.step() ? static_cast<int>(st.integer(0)) : 0;
  };
  auto run_sql = [&](const char* sql) {
    Statement st(db_, sql);
    st.run();
  };
  stats.sweeps_added = count("SELECT COUNT(*) FROM shard.sweeps WHERE uid NOT IN (SELECT uid FROM main.sweeps)");
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
  stats.runs_added = count("SELECT COUNT(*) FROM temp.merge_uids WHERE replace = 0");
  stats.runs_replaced = count("SELECT COUNT(*) FROM temp.merge_uids WHERE replace = 1");
  stats.runs_present = count("SELECT COUNT(*) FROM shard.runs") - stats.runs_added - stats.runs_replaced;
  for (const char* sql : {
           "DELETE FROM main.centres WHERE run_id IN (SELECT id FROM main.runs WHERE uid IN (SELECT uid FROM temp.merge_uids WHERE replace = 1))",
           "DELETE FROM main.epochs WHERE run_id IN (SELECT id FROM main.runs WHERE uid IN (SELECT uid FROM temp.merge_uids WHERE replace = 1))",
           "DELETE FROM main.final_stats WHERE run_id IN (SELECT id FROM main.runs WHERE uid IN (SELECT uid FROM temp.merge_uids WHERE replace = 1))",
           "DELETE FROM main.probes WHERE run_id IN (SELECT id FROM main.runs WHERE uid IN (SELECT uid FROM temp.merge_uids WHERE replace = 1))",
           "DELETE FROM main.run_log WHERE run_id IN (SELECT id FROM main.runs WHERE uid IN (SELECT uid FROM temp.merge_uids WHERE replace = 1))",
           "DELETE FROM main.runs WHERE uid IN (SELECT uid FROM temp.merge_uids WHERE replace = 1)",
           // A run still marked running in a shard belongs to a process on
           // another machine: here it is interrupted until a later merge
           // brings it finished.
           "INSERT INTO main.runs (name, method, base_method, paradigm, dataset, config, seed, device, status, message, tag, "
           "epochs_planned, created_at, started_at, finished_at, program_version, host, pid, checkpoint, checkpoint_epoch, "
           "uid, sweep_id, sweep_index, sweep_point) "
           "SELECT r.name, r.method, r.base_method, r.paradigm, r.dataset, r.config, r.seed, r.device, "
           "CASE r.status WHEN 'running' THEN 'interrupted' ELSE r.status END, "
           "CASE r.status WHEN 'running' THEN 'still running in the shard it was merged from' ELSE r.message END, "
           "r.tag, r.epochs_planned, r.created_at, r.started_at, r.finished_at, r.program_version, r.host, NULL, "
           "r.checkpoint, r.checkpoint_epoch, r.uid, "
           "(SELECT m.id FROM main.sweeps m JOIN shard.sweeps ss ON ss.uid = m.uid WHERE ss.id = r.sweep_id), "
           "r.sweep_index, r.sweep_point FROM shard.runs r WHERE r.uid IN (SELECT uid FROM temp.merge_uids) ORDER BY r.id",
           "INSERT INTO main.epochs (run_id, epoch, loss, loss_e, loss_m, mi_cos_dv, mi_infonce, mi_jsd, embedding_std, "
           "effective_rank, lr, seconds, knn_top1_k20, knn_top1_k200) "
           "SELECT m.id, e.epoch, e.loss, e.loss_e, e.loss_m, e.mi_cos_dv, e.mi_infonce, e.mi_jsd, e.embedding_std, "
           "e.effective_rank, e.lr, e.seconds, e.knn_top1_k20, e.knn_top1_k200 FROM shard.epochs e "
           "JOIN shard.runs r ON r.id = e.run_id JOIN main.runs m ON m.uid = r.uid WHERE r.uid IN (SELECT uid FROM temp.merge_uids)",
           "INSERT INTO main.centres (run_id, epoch, encoder, cluster, x, y, z) "
           "SELECT m.id, c.epoch, c.encoder, c.cluster, c.x, c.y, c.z FROM shard.centres c "
           "JOIN shard.runs r ON r.id = c.run_id JOIN main.runs m ON m.uid = r.uid WHERE r.uid IN (SELECT uid FROM temp.merge_uids)",
           "INSERT INTO main.final_stats (run_id, encoder, nn_gap_mean, nn_gap_min, nn_gap_max, nn_gap_sd) "
           "SELECT m.id, f.encoder, f.nn_gap_mean, f.nn_gap_min, f.nn_gap_max, f.nn_gap_sd FROM shard.final_stats f "
           "JOIN shard.runs r ON r.id = f.run_id JOIN main.runs m ON m.uid = r.uid WHERE r.uid IN (SELECT uid FROM temp.merge_uids)",
           "INSERT INTO main.probes (run_id, encoder, top1, epochs, train_size, test_size) "
           "SELECT m.id, p.encoder, p.top1, p.epochs, p.train_size, p.test_size FROM shard.probes p "
           "JOIN shard.runs r ON r.id = p.run_id JOIN main.runs m ON m.uid = r.uid WHERE r.uid IN (SELECT uid FROM temp.merge_uids)",
           "INSERT INTO main.run_log (run_id, seq, at, level, text) "
           "SELECT m.id, l.seq, l.at, l.level, l.text FROM shard.run_log l "
           "JOIN shard.runs r ON r.id = l.run_id JOIN main.runs m ON m.uid = r.uid WHERE r.uid IN (SELECT uid FROM temp.merge_uids)",
       })
    run_sql(sql);
  tx.commit();
  return stats;
}

std::string Database::latest_tag(const std::string& prefix) const {
  Statement st(db_, "SELECT tag FROM runs WHERE substr(tag, 1, length(?1)) = ?1 ORDER BY id DESC LIMIT 1");
  st.bind(1, prefix);
  return st.step() ? st.text(0) : std::string();
}

}  // namespace ssrl::storage
