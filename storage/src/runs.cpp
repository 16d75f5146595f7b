// One run: creating and recording it, resuming, listing and loading it, its
// log, renaming, tagging and deleting.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <map>

#include "database_impl.hpp"
#include "ssrl/text.hpp"
#include "sqlite.hpp"

namespace ssrl::storage {
namespace {

// A run's row with what the run list shows of its epochs, statistics and
// probes; every expression is named, read_run reads the names.
const char* kRunColumns =
    "r.id, r.name, r.method, r.base_method, r.paradigm, r.dataset, r.status, r.device, r.message, "
    "r.tag, r.config, r.seed, r.epochs_planned, r.created_at, IFNULL(r.started_at,'') AS started_at, "
    "IFNULL(r.finished_at,'') AS finished_at, r.program_version, "
    "(SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id) AS epochs_done, "
    "(SELECT IFNULL(SUM(seconds),0) FROM epochs e WHERE e.run_id = r.id) AS seconds, "
    "le.mi_cos_dv, le.mi_infonce, le.mi_jsd, "
    "(SELECT nn_gap_min FROM final_stats s WHERE s.run_id = r.id AND s.encoder = 'f') AS min_separation, "
    "r.checkpoint, r.checkpoint_epoch, "
    "(SELECT top1 FROM probes p WHERE p.run_id = r.id AND p.encoder = 'f') AS probe_top1, "
    "le.embedding_std, le.effective_rank, le.knn_top1_k20, "
    "IFNULL(r.uid, '') AS uid, r.sweep_id, IFNULL(r.sweep_index, 0) AS sweep_index, "
    "IFNULL(r.sweep_point, '') AS sweep_point "
    "FROM runs r LEFT JOIN epochs le ON le.run_id = r.id AND le.epoch = "
    "(SELECT MAX(epoch) FROM epochs e2 WHERE e2.run_id = r.id) ";

RunRow read_run(const Row& row) {
  RunRow r;
  r.id = row.integer("id");
  r.name = row.text("name");
  r.method = row.text("method");
  r.base_method = row.text("base_method");
  r.paradigm = row.text("paradigm");
  r.dataset = row.text("dataset");
  r.status = row.text("status");
  r.device = row.text("device");
  r.message = row.text("message");
  r.tag = row.text("tag");
  r.config_json = row.text("config");
  r.seed = row.integer("seed");
  r.epochs_planned = static_cast<int>(row.integer("epochs_planned"));
  r.created_at = row.text("created_at");
  r.started_at = row.text("started_at");
  r.finished_at = row.text("finished_at");
  r.program_version = row.text("program_version");
  r.epochs_done = static_cast<int>(row.integer("epochs_done"));
  r.seconds = row.real("seconds");
  r.last_mi.cos_dv = row.real_or_null("mi_cos_dv");
  r.last_mi.infonce = row.real_or_null("mi_infonce");
  r.last_mi.jsd = row.real_or_null("mi_jsd");
  r.min_separation = row.real_or_null("min_separation");
  r.checkpoint = row.text("checkpoint");
  r.checkpoint_epoch = static_cast<int>(row.integer("checkpoint_epoch"));
  r.probe_top1 = row.real_or_null("probe_top1");
  r.last_embedding_std = row.real_or_null("embedding_std");
  r.last_effective_rank = row.real_or_null("effective_rank");
  r.last_knn_top1 = row.real_or_null("knn_top1_k20");
  r.uid = row.text("uid");
  r.sweep_id = row.integer_or_null("sweep_id");
  r.sweep_index = static_cast<int>(row.integer("sweep_index"));
  r.sweep_point = row.text("sweep_point");
  return r;
}

EncoderFinal read_final(const Row& row) {
  EncoderFinal fin;
  fin.encoder = row.text("encoder");
  fin.separation = {row.real("nn_gap_mean"), row.real("nn_gap_min"), row.real("nn_gap_max"), row.real("nn_gap_sd")};
  return fin;
}

}  // namespace

static void check_length(const char* what, const std::string& text, std::size_t limit) {
  if (text.size() > limit)
    throw ConfigError(what, "is " + std::to_string(text.size()) + " bytes long; the limit is " + std::to_string(limit));
  if (!valid_utf8(text)) throw ConfigError(what, "is not valid UTF-8 text");
}

void insert_run(sqlite3* db, const NewRun& run, const std::string& host) {
  check_length("name", run.name, kMaxRunNameLength);
  check_length("tag", run.tag, kMaxTagLength);
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
  {
    Statement st(db_,
                 "INSERT INTO collapse (run_id, epoch, encoder, proj_std, proj_rank, feat_std, feat_rank, out_scale_norm) "
                 "VALUES (?,?,?,?,?,?,?,?)");
    for (const auto& c : r.collapse) {
      st.bind(1, run_id).bind(2, r.epoch).bind(3, c.encoder).bind(4, c.proj_std).bind(5, c.proj_rank);
      st.bind(6, c.feat_std).bind(7, c.feat_rank).bind(8, c.out_scale_norm);
      st.run();
      st.reset();
    }
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
               "INSERT OR REPLACE INTO probes (run_id, encoder, top1, epochs, train_size, test_size, standardised) "
                  "VALUES (?,?,?,?,?,?,?)");
  for (const auto& p : outcome.probes) {
    pr.bind(1, run_id).bind(2, p.encoder).bind(3, p.top1).bind(4, p.epochs).bind(5, p.train_size).bind(6, p.test_size);
    pr.bind(7, p.standardised ? 1 : 0);
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
  // Children first, as in delete_run.
  for (auto t = std::rbegin(kRunTables); t != std::rend(kRunTables); ++t) {
    if (t->on_resume == OnResume::Keep) continue;
    std::string sql = std::string("DELETE FROM ") + t->name + " WHERE " + t->run_column + " = ?1";
    if (t->on_resume == OnResume::DropLaterEpochs) sql += std::string(" AND ") + t->epoch_column + " > ?2";
    Statement st(db_, sql);
    st.bind(1, run_id);
    if (t->on_resume == OnResume::DropLaterEpochs) st.bind(2, from_epoch);
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
  Statement st(db_, sql);
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
    rows.push_back(read_run(st.row()));
    index[rows.back().id] = rows.size() - 1;
  }
  if (rows.empty()) return rows;
  Statement fs(db_,
               "SELECT run_id, encoder, nn_gap_mean, nn_gap_min, nn_gap_max, nn_gap_sd FROM final_stats "
               "WHERE run_id BETWEEN ? AND ? ORDER BY run_id, encoder");
  fs.bind(1, rows.front().id).bind(2, rows.back().id);
  while (fs.step()) {
    const Row row = fs.row();
    const auto it = index.find(row.integer("run_id"));
    if (it == index.end()) continue;
    rows[it->second].finals.push_back(read_final(row));
  }
  Statement ps(db_,
               "SELECT run_id, encoder, top1, epochs, train_size, test_size, standardised FROM probes "
               "WHERE run_id BETWEEN ? AND ? ORDER BY run_id, encoder");
  ps.bind(1, rows.front().id).bind(2, rows.back().id);
  while (ps.step()) {
    const Row row = ps.row();
    const auto it = index.find(row.integer("run_id"));
    if (it == index.end()) continue;
    rows[it->second].probes.push_back({row.text("encoder"), row.real("top1"), static_cast<int>(row.integer("epochs")),
                                       row.integer("train_size"), row.integer("test_size"),
                                       row.integer("standardised") != 0});
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
      const Row row = st.row();
      EpochRecord r;
      r.epoch = static_cast<int>(row.integer("epoch"));
      r.loss = row.real("loss");
      r.loss_e = row.real_or_null("loss_e");
      r.loss_m = row.real_or_null("loss_m");
      r.mi.cos_dv = row.real_or_null("mi_cos_dv");
      r.mi.infonce = row.real_or_null("mi_infonce");
      r.mi.jsd = row.real_or_null("mi_jsd");
      r.embedding_std = row.real("embedding_std");
      r.effective_rank = row.real("effective_rank");
      r.lr = row.real("lr");
      r.seconds = row.real("seconds");
      r.knn_top1_k20 = row.real_or_null("knn_top1_k20");
      r.knn_top1_k200 = row.real_or_null("knn_top1_k200");
      index[r.epoch] = out.size();
      out.push_back(std::move(r));
    }
  }
  {
    Statement st(db_,
                 "SELECT epoch, encoder, proj_std, proj_rank, feat_std, feat_rank, out_scale_norm FROM collapse "
                 "WHERE run_id = ? ORDER BY epoch, encoder");
    st.bind(1, run_id);
    while (st.step()) {
      const Row row = st.row();
      const auto it = index.find(static_cast<int>(row.integer("epoch")));
      if (it == index.end()) continue;
      out[it->second].collapse.push_back({row.text("encoder"), row.real("proj_std"), row.real("proj_rank"),
                                          row.real("feat_std"), row.real("feat_rank"),
                                          row.real_or_null("out_scale_norm")});
    }
  }
  if (!with_centres) return out;
  Statement st(db_,
               "SELECT epoch, encoder, cluster, x, y, z FROM centres WHERE run_id = ? "
               "ORDER BY epoch, encoder, cluster");
  st.bind(1, run_id);
  while (st.step()) {
    const Row row = st.row();
    const auto it = index.find(static_cast<int>(row.integer("epoch")));
    if (it == index.end()) continue;
    auto& rec = out[it->second];
    const std::string enc = row.text("encoder");
    if (rec.centres.empty() || rec.centres.back().encoder != enc) rec.centres.push_back({enc, {}});
    rec.centres.back().centres.push_back({row.real("x"), row.real("y"), row.real("z")});
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
    EncoderFinal fin = read_final(st.row());
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
  return load_run(st.row().integer("id"));
}

int Database::mark_abandoned_runs() {
  if (read_only_) return 0;
  const std::string host = hostname();
  std::vector<std::int64_t> stale;
  std::vector<std::int64_t> pids;
  {
    Statement st(db_, "SELECT id, IFNULL(pid, -1) AS pid FROM runs WHERE status = 'running' AND host = ?");
    st.bind(1, host);
    while (st.step()) {
      const Row row = st.row();
      const std::int64_t pid = row.integer("pid");
      const bool alive = pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
      if (!alive) {
        stale.push_back(row.integer("id"));
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
  while (st.step()) {
    const Row row = st.row();
    out.push_back({row.text("at"), row.text("level"), row.text("text")});
  }
  return out;
}

void Database::rename_run(std::int64_t run_id, const std::string& name) {
  check_length("name", name, kMaxRunNameLength);
  Statement st(db_, "UPDATE runs SET name = ? WHERE id = ?");
  st.bind(1, name).bind(2, run_id);
  st.run();
  if (sqlite3_changes(db_) == 0) throw StorageError("database '" + path_ + "': no run " + std::to_string(run_id));
}

void Database::set_tag(std::int64_t run_id, const std::string& tag) {
  check_length("tag", tag, kMaxTagLength);
  Statement st(db_, "UPDATE runs SET tag = ? WHERE id = ?");
  st.bind(1, tag).bind(2, run_id);
  st.run();
  if (sqlite3_changes(db_) == 0) throw StorageError("database '" + path_ + "': no run " + std::to_string(run_id));
}

void Database::delete_run(std::int64_t run_id) {
  Transaction tx(db_);
  // Children first (the list has parents first), then the run itself.
  for (auto t = std::rbegin(kRunTables); t != std::rend(kRunTables); ++t) {
    Statement st(db_, std::string("DELETE FROM ") + t->name + " WHERE " + t->run_column + " = ?");
    st.bind(1, run_id);
    st.run();
  }
  Statement st(db_, "DELETE FROM runs WHERE id = ?");
  st.bind(1, run_id);
  st.run();
  tx.commit();
}

std::string Database::latest_tag(const std::string& prefix) const {
  Statement st(db_, "SELECT tag FROM runs WHERE substr(tag, 1, length(?1)) = ?1 ORDER BY id DESC LIMIT 1");
  st.bind(1, prefix);
  return st.step() ? st.row().text("tag") : std::string();
}

}  // namespace ssrl::storage
