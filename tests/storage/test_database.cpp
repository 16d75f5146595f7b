// The run database: round trip, crash safety, and refusal of bad files.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "database_impl.hpp"
#include "sqlite.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/storage/database.hpp"
#include "support/temp_dir.hpp"

namespace ssrl::storage {
namespace {

namespace fs = std::filesystem;

class DbTest : public wb_test::TempDirTest {
 protected:
  // The test's database, or another file beside it.
  std::string path(const std::string& name = "w.db") const { return TempDirTest::path(name); }
};

NewRun sample_run(const std::string& name = "r") {
  NewRun r;
  r.name = name;
  r.method = "sdmi-nodv";
  r.base_method = "sdmi";
  r.paradigm = "SDMI";
  r.dataset = "gaussian";
  r.config_json = R"({"method":"sdmi-nodv","epochs":3,"batch_size":500,"clusters":5})";
  r.seed = 4;
  r.epochs_planned = 3;
  r.tag = "t1";
  r.program_version = "test";
  return r;
}

EpochRecord sample_epoch(int epoch) {
  EpochRecord e;
  e.epoch = epoch;
  e.loss = -1.0 - epoch;
  e.loss_e = -1.5;
  e.loss_m = -0.5;
  if (epoch > 1) e.mi.cos_dv = 0.1 * epoch;  // epoch 1: undefined, stored as NULL
  e.mi.infonce = 0.2;
  e.mi.jsd = -1.1;
  e.embedding_std = 0.5;
  e.effective_rank = 2.5;
  e.lr = 0.4;
  e.seconds = 0.01;
  e.centres = {{"f", {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {-1, 0, 0}, {0, -1, 0}}},
               {"g", {{0, 0, 1}, {0, 1, 0}, {1, 0, 0}, {0, 0, -1}, {0, -1, 0}}}};
  e.collapse = {{"f", 0.5, 2.5, 0.3, 40.0 + epoch, 1.7}, {"g", 0.4, 2.0, 0.2, 30.0, std::nullopt}};
  return e;
}

TEST_F(DbTest, RunRoundTripsWithNullsCentresAndFinals) {
  std::int64_t id = 0;
  {
    Database db(path());
    EXPECT_EQ(db.schema_version(), Database::latest_schema_version());
    id = db.create_run(sample_run());
    db.mark_running(id, "cpu");
    for (int e = 1; e <= 3; ++e) db.append_epoch(id, sample_epoch(e));
    RunOutcome out;
    out.status = RunStatus::Finished;
    out.finals = {{"f", {90, 80, 100, 5}, {}}, {"g", {70, 60, 75, 4}, {}}};
    db.finish_run(id, out);
  }
  Database db(path(), Database::Mode::ReadOnly);
  const auto d = db.load_run(std::to_string(id));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->run.method, "sdmi-nodv");
  EXPECT_EQ(d->run.status, "finished");
  EXPECT_EQ(d->run.device, "cpu");
  EXPECT_EQ(d->run.epochs_done, 3);
  EXPECT_EQ(d->run.seed, 4);
  EXPECT_FALSE(d->run.started_at.empty());
  EXPECT_FALSE(d->run.finished_at.empty());
  ASSERT_EQ(d->epochs.size(), 3u);
  EXPECT_FALSE(d->epochs[0].mi.cos_dv.has_value());
  EXPECT_DOUBLE_EQ(*d->epochs[2].mi.cos_dv, 0.1 * 3);
  EXPECT_DOUBLE_EQ(*d->epochs[1].loss_e, -1.5);
  ASSERT_EQ(d->epochs[1].centres.size(), 2u);
  EXPECT_EQ(d->epochs[1].centres[1].encoder, "g");
  // Collapse at both levels, per encoder; no scale norm without an affine output norm.
  ASSERT_EQ(d->epochs[2].collapse.size(), 2u);
  EXPECT_EQ(d->epochs[2].collapse[0].encoder, "f");
  EXPECT_DOUBLE_EQ(d->epochs[2].collapse[0].feat_rank, 43.0);
  EXPECT_DOUBLE_EQ(*d->epochs[2].collapse[0].out_scale_norm, 1.7);
  EXPECT_DOUBLE_EQ(d->epochs[2].collapse[1].proj_std, 0.4);
  EXPECT_FALSE(d->epochs[2].collapse[1].out_scale_norm.has_value());
  EXPECT_DOUBLE_EQ(d->epochs[1].centres[1].centres[3].z, -1.0);
  ASSERT_EQ(d->finals.size(), 2u);
  EXPECT_DOUBLE_EQ(d->finals[0].separation.min, 80);
  EXPECT_EQ(d->finals[1].centres.size(), 5u);  // the last epoch's centres
  EXPECT_EQ(d->run.last_mi.cos_dv, 0.1 * 3);
  // By name, and filters.
  EXPECT_TRUE(db.load_run("r").has_value());
  EXPECT_FALSE(db.load_run("nope").has_value());
  RunFilter f;
  f.method = "sdmi-nodv";
  EXPECT_EQ(db.list_runs(f).size(), 1u);
  f.method = "jmi";
  EXPECT_TRUE(db.list_runs(f).empty());
  EXPECT_EQ(db.latest_tag("t"), "t1");
}

TEST_F(DbTest, DuplicateEpochRollsBackItsTransactionAndKeepsTheRest) {
  Database db(path());
  const auto id = db.create_run(sample_run());
  db.append_epoch(id, sample_epoch(1));
  EXPECT_THROW(db.append_epoch(id, sample_epoch(1)), StorageError);
  EXPECT_EQ(db.load_epochs(id, true).size(), 1u);
  EXPECT_EQ(db.load_epochs(id, true)[0].centres[0].centres.size(), 5u);
}

// A writer killed mid-run leaves a readable database with every committed
// epoch; the run it left 'running' is then marked interrupted.
TEST_F(DbTest, KilledWriterLeavesAReadableDatabase) {
  const std::string file = path();
  { Database db(file); }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      Database db(file);
      const auto id = db.create_run(sample_run("killed"));
      db.mark_running(id, "cpu");
      for (int e = 1; e < 1000000; ++e) db.append_epoch(id, sample_epoch(e));
    } catch (...) {
    }
    _exit(0);
  }
  // Wait until some epochs are committed, then kill without warning.
  std::int64_t seen = 0;
  for (int i = 0; i < 400 && seen < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    try {
      Database db(file, Database::Mode::ReadOnly);
      const auto rows = db.list_runs();
      if (!rows.empty()) seen = rows[0].epochs_done;
    } catch (const StorageError&) {
    }
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_GE(seen, 20);

  Database db(file);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.handle(), "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  const auto rows = db.list_runs();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_GE(rows[0].epochs_done, seen);
  // Every stored epoch is whole: its centres arrived with it.
  for (const auto& e : db.load_epochs(rows[0].id, true)) ASSERT_EQ(e.centres.size(), 2u) << e.epoch;
  EXPECT_EQ(rows[0].status, "running");
  EXPECT_EQ(db.mark_abandoned_runs(), 1);
  const auto after = db.list_runs();
  EXPECT_EQ(after[0].status, "interrupted");
  EXPECT_NE(after[0].message.find("ended before it finished"), std::string::npos);
}

TEST_F(DbTest, AFileThatIsNotADatabaseIsRefusedAndLeftAlone) {
  const std::string file = path("notes.db");
  {
    std::ofstream out(file);
    out << "these are my notes, not a database\n" << std::string(5000, 'x');
  }
  const auto size = fs::file_size(file);
  try {
    Database db(file);
    FAIL() << "opened a text file";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("not an SSRL Workbench database"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos);
  }
  EXPECT_EQ(fs::file_size(file), size);
}

TEST_F(DbTest, AForeignSqliteDatabaseIsRefusedAndLeftAlone) {
  const std::string file = path("other.db");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "CREATE TABLE accounts(x); INSERT INTO accounts VALUES (1);", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  EXPECT_THROW(Database db(file), StorageError);
  ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "SELECT COUNT(*) FROM sqlite_schema", -1, &st, nullptr);
  sqlite3_step(st);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);  // nothing added
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

std::string bytes_of(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Issue 13, class 6: the id is checked before anything that can write (the
// journal mode included); only a new or zero-byte file becomes ours.
TEST_F(DbTest, ForeignSqliteFilesWithoutTablesAreRefusedUnchanged) {
  for (const std::string pragma : {"PRAGMA application_id = 42", "PRAGMA user_version = 7", "CREATE TABLE t(x); DROP TABLE t"}) {
    const std::string file = path("foreign.db");
    fs::remove(file);
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, pragma.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    const std::string before = bytes_of(file);
    ASSERT_FALSE(before.empty()) << pragma;
    for (auto mode : {Database::Mode::ReadWrite, Database::Mode::ReadOnly}) {
      try {
        Database db(file, mode);
        ADD_FAILURE() << "took over a file after " << pragma;
      } catch (const StorageError& e) {
        EXPECT_NE(std::string(e.what()).find("not an SSRL Workbench database"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find("newer"), std::string::npos) << e.what();
      }
    }
    EXPECT_EQ(bytes_of(file), before) << pragma;  // not even switched to WAL
    EXPECT_FALSE(fs::exists(file + "-wal"));
  }
  // A zero-byte file is new: reading it says so, writing makes it ours.
  const std::string empty = path("empty.db");
  std::ofstream(empty).close();
  try {
    Database db(empty, Database::Mode::ReadOnly);
    FAIL() << "read a zero-byte file as a database";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("is empty"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(empty), std::string::npos) << e.what();
  }
  { Database db(empty); }
  Database db(empty, Database::Mode::ReadOnly);
  EXPECT_TRUE(db.list_runs().empty());
}

// Runs `fn` in a child process that sees dir_ read-only: a read-only bind
// mount where this process may make one (root), else the folder's write bits
// taken away (other users). Returns the child's exit code; -1 when neither works.
int with_read_only_folder(const fs::path& dir, const std::function<int()>& fn) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) == 0 && mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
        mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) == 0 &&
        mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0)
      _exit(fn());
    if (geteuid() != 0) {
      fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
      const int code = fn();
      fs::permissions(dir, fs::perms::owner_all);
      _exit(code);
    }
    _exit(200);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
  return code == 200 ? -1 : code;
}

// Issue 13, class 7: a database on read-only storage can be read; a writer
// is told that the file is read-only.
TEST_F(DbTest, ReadOnlyStorageCanBeReadAndWritersAreToldWhy) {
  const fs::path ro = dir_ / "ro";
  fs::create_directories(ro);
  const std::string file = (ro / "w.db").string();
  {
    Database db(file);
    db.create_run(sample_run("kept"));
  }  // closed: WAL checkpointed, -wal and -shm removed
  const int code = with_read_only_folder(ro, [&] {
    try {
      Database db(file, Database::Mode::ReadOnly);
      const auto runs = db.list_runs();
      if (runs.size() != 1 || runs[0].name != "kept") return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "reading: %s\n", e.what());
      return 2;
    }
    try {
      Database db(file);
      return 3;
    } catch (const StorageError& e) {
      return std::string(e.what()).find("is read-only") != std::string::npos ? 0 : 4;
    }
  });
  if (code == -1) GTEST_SKIP() << "cannot make a read-only folder here (root without mount rights)";
  EXPECT_EQ(code, 0) << "1: wrong runs, 2: reading failed, 3: a writer opened it, 4: the writer's message";
}

TEST_F(DbTest, DamagedDatabaseFailsWithAClearMessage) {
  const std::string file = path();
  {
    Database db(file);
    for (int i = 0; i < 50; ++i) db.create_run(sample_run("r" + std::to_string(i)));
  }
  // Checkpoint the WAL into the main file, then scribble over its pages.
  {
    sqlite3* raw = nullptr;
    sqlite3_open(file.c_str(), &raw);
    sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    const std::string junk(8192, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  try {
    Database db(file);
    db.list_runs();
    FAIL() << "no error on a damaged database";
  } catch (const StorageError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file), std::string::npos) << msg;
    EXPECT_NE(msg.find("damaged"), std::string::npos) << msg;
  }
}

TEST_F(DbTest, NewerSchemaIsRefused) {
  const std::string file = path();
  { Database db(file); }
  sqlite3* raw = nullptr;
  sqlite3_open(file.c_str(), &raw);
  sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  try {
    Database db(file);
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos);
  }
}

TEST_F(DbTest, LockedDatabaseFailsWithAClearMessageAndKeepsData) {
  const std::string file = path();
  std::int64_t id = 0;
  {
    Database db(file);
    id = db.create_run(sample_run());
  }
  sqlite3* holder = nullptr;
  sqlite3_open(file.c_str(), &holder);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  try {
    Database db(file, Database::Mode::ReadWrite, 200);
    db.append_epoch(id, sample_epoch(1));
    FAIL() << "wrote through an exclusive lock";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
  }
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  Database db(file);
  EXPECT_EQ(db.list_runs().size(), 1u);
}

TEST_F(DbTest, ReadOnlyOpenOfAMissingFileDoesNotCreateIt) {
  EXPECT_THROW(Database db(path("missing.db"), Database::Mode::ReadOnly), StorageError);
  EXPECT_FALSE(fs::exists(path("missing.db")));
}

TEST(DefaultPath, FollowsXdgDataHome) {
  const char* old = std::getenv("XDG_DATA_HOME");
  const std::string saved = old ? old : "";
  const char* old_home = std::getenv("HOME");
  const std::string saved_home = old_home ? old_home : "";
  setenv("XDG_DATA_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(Database::default_path(), "/tmp/xdg-test/ssrl-workbench/workbench.db");
  unsetenv("XDG_DATA_HOME");
  setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(Database::default_path(), "/home/someone/.local/share/ssrl-workbench/workbench.db");
  if (!saved.empty()) setenv("XDG_DATA_HOME", saved.c_str(), 1);
  setenv("HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace ssrl::storage

namespace ssrl::storage {
namespace {

TEST_F(DbTest, RenameTagDeleteAndLog) {
  Database db(path());
  const auto a = db.create_run(sample_run("a"));
  const auto b = db.create_run(sample_run("b"));
  db.mark_running(a, "cpu");
  db.append_epoch(a, sample_epoch(1));
  RunOutcome out;
  out.status = RunStatus::Diverged;
  out.message = "loss became non-finite";
  out.epochs_done = 1;
  out.finals = {{"f", {1, 1, 1, 0}, {}}};
  db.finish_run(a, out);
  db.rename_run(a, "renamed");
  db.set_tag(a, "keep");
  db.append_log(a, "info", "a note");
  const auto log = db.load_log(a);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_NE(log[0].text.find("started on cpu"), std::string::npos);
  EXPECT_EQ(log[1].level, "error");
  EXPECT_NE(log[1].text.find("diverged after 1 epochs: loss became non-finite"), std::string::npos);
  EXPECT_EQ(log[2].text, "a note");
  EXPECT_EQ(db.load_run("renamed")->run.tag, "keep");
  db.delete_run(a);
  EXPECT_FALSE(db.load_run(a).has_value());
  EXPECT_TRUE(db.load_log(a).empty());
  EXPECT_TRUE(db.load_epochs(a, true).empty());
  EXPECT_TRUE(db.load_run(b).has_value());  // the other run is untouched
  EXPECT_THROW(db.rename_run(a, "x"), StorageError);
}

// A database written by the first release (schema v1, no run log) opens,
// migrates to the current schema and keeps its runs.
TEST_F(DbTest, VersionOneDatabaseIsMigratedWithItsData) {
  const std::string file = path();
  {
    Database db(file);
    const auto id = db.create_run(sample_run("old"));
    db.append_epoch(id, sample_epoch(1));
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  // Undo v2 to v5: what a v1 file looked like.
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TABLE collapse; DROP INDEX runs_by_uid; DROP INDEX runs_by_sweep; ALTER TABLE runs DROP COLUMN uid; "
                         "ALTER TABLE runs DROP COLUMN sweep_id; ALTER TABLE runs DROP COLUMN sweep_index; "
                         "ALTER TABLE runs DROP COLUMN sweep_point; DROP TABLE sweeps; "
                         "DROP TABLE run_log; DROP TABLE probes; ALTER TABLE epochs DROP COLUMN knn_top1_k20; "
                         "ALTER TABLE epochs DROP COLUMN knn_top1_k200; ALTER TABLE runs DROP COLUMN checkpoint; "
                         "ALTER TABLE runs DROP COLUMN checkpoint_epoch; PRAGMA user_version = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  {
    // A reader (`runs`, the browser) upgrades the file too: it queries the current schema.
    Database reader(file, Database::Mode::ReadOnly);
    ASSERT_EQ(reader.list_runs().size(), 1u);
  }
  Database db(file);
  EXPECT_EQ(db.schema_version(), Database::latest_schema_version());
  const auto runs = db.list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].name, "old");
  EXPECT_EQ(runs[0].uid.size(), 32u);  // backfilled: merging needs one per run
  EXPECT_EQ(runs[0].epochs_done, 1);
  db.append_log(runs[0].id, "info", "after the migration");
  EXPECT_EQ(db.load_log(runs[0].id).size(), 1u);
}

// Storage internals: reading results by column name, and the list of the
// tables that hold a run's rows.

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const StorageError& e) {
    return e.what();
  }
  return "";
}

TEST_F(DbTest, ResultsAreReadByColumnNameAndAMisspeltNameIsAClearError) {
  Database db(path());
  db.create_run(sample_run("a"));
  Statement st(db.handle(), "SELECT id, name, seed, 2.5 AS ratio, NULL AS absent, 1 AS twice, 2 AS twice FROM runs");
  EXPECT_NE(error_of([&] { st.row().text("name"); }).find("no current row"), std::string::npos);
  ASSERT_TRUE(st.step());
  const Row row = st.row();
  EXPECT_EQ(row.integer("id"), 1);
  EXPECT_EQ(row.text("name"), "a");
  EXPECT_EQ(row.integer("seed"), 4);
  EXPECT_DOUBLE_EQ(row.real("ratio"), 2.5);
  EXPECT_EQ(row.real_or_null("ratio"), 2.5);
  EXPECT_FALSE(row.real_or_null("absent").has_value());
  EXPECT_FALSE(row.integer_or_null("absent").has_value());
  EXPECT_EQ(row.integer_or_null("seed"), 4);
  EXPECT_TRUE(row.is_null("absent"));
  EXPECT_FALSE(row.is_null("name"));
  // A typo names the column, the query and the file, and is not read as something else.
  const std::string typo = error_of([&] { row.integer("sed"); });
  EXPECT_NE(typo.find("programming error"), std::string::npos) << typo;
  EXPECT_NE(typo.find("'sed'"), std::string::npos) << typo;
  EXPECT_NE(typo.find("SELECT id, name"), std::string::npos) << typo;
  EXPECT_NE(typo.find(path()), std::string::npos) << typo;
  EXPECT_NE(error_of([&] { row.text("Name"); }).find("'Name'"), std::string::npos);
  EXPECT_NE(error_of([&] { row.integer("twice"); }).find("more than one"), std::string::npos);
  EXPECT_FALSE(st.step());
  EXPECT_NE(error_of([&] { st.row().text("name"); }).find("no current row"), std::string::npos);
  EXPECT_EQ(query_integer(db.handle(), "SELECT COUNT(*) AS n FROM runs", "n"), 1);
  EXPECT_EQ(query_integer(db.handle(), "SELECT id FROM runs WHERE id = 7", "id", -1), -1);
  EXPECT_NE(error_of([&] { query_integer(db.handle(), "SELECT COUNT(*) FROM runs", "n"); }).find("'n'"), std::string::npos);
}

// Every table with a run id is in kRunTables (so deleting, merging and
// resuming a run reach it), parents listed before the tables that reference them.
TEST_F(DbTest, TheRunTableListHoldsEveryTableWithARunsRows) {
  Database db(path());
  std::set<std::string> with_run_id;
  Statement st(db.handle(),
               "SELECT m.name AS tbl FROM sqlite_schema m JOIN pragma_table_info(m.name) c "
               "WHERE m.type = 'table' AND m.name <> 'runs' AND c.name = 'run_id'");
  while (st.step()) with_run_id.insert(st.row().text("tbl"));
  std::set<std::string> listed;
  for (const auto& t : kRunTables) {
    listed.insert(t.name);
    std::set<std::string> columns;
    Statement cols(db.handle(), "SELECT name FROM pragma_table_info(?)");
    cols.bind(1, std::string(t.name));
    while (cols.step()) columns.insert(cols.row().text("name"));
    EXPECT_TRUE(columns.count(t.run_column)) << t.name;
    if (t.on_resume == OnResume::DropLaterEpochs) {
      ASSERT_NE(t.epoch_column, nullptr) << t.name;
      EXPECT_TRUE(columns.count(t.epoch_column)) << t.name;
    }
    Statement fk(db.handle(), "SELECT \"table\" AS parent FROM pragma_foreign_key_list(?)");
    fk.bind(1, std::string(t.name));
    while (fk.step()) {
      const std::string parent = fk.row().text("parent");
      if (parent != "runs") {
        EXPECT_TRUE(listed.count(parent)) << t.name << " is listed before its parent " << parent;
      }
    }
  }
  EXPECT_EQ(listed, with_run_id);
}

// A finished run with rows in every per-run table: two epochs with centres,
// a final, a probe, its log.
std::int64_t full_run(Database& db) {
  const auto id = db.create_run(sample_run());
  db.mark_running(id, "cpu");
  db.append_epoch(id, sample_epoch(1));
  db.append_epoch(id, sample_epoch(2));
  RunOutcome out;
  out.epochs_done = 2;
  out.finals = {{"f", {90, 80, 100, 5}, {}}};
  out.probes = {{"f", 0.5, 2, 100, 50}};
  db.finish_run(id, out);
  return id;
}

// Rows of run `id` in table `t` (with `where`, a condition on them).
std::int64_t rows_of(const Database& db, const RunTable& t, std::int64_t id, const std::string& where = "1") {
  Statement st(db.handle(),
               std::string("SELECT COUNT(*) AS n FROM ") + t.name + " WHERE " + t.run_column + " = ? AND " + where);
  st.bind(1, id);
  st.step();
  return st.row().integer("n");
}

// Deleting a run empties every per-run table of it and leaves the other run whole.
TEST_F(DbTest, DeletingARunRemovesItsRowsFromEveryRunTable) {
  Database db(path());
  const std::int64_t ids[2] = {full_run(db), full_run(db)};
  for (const auto& t : kRunTables) ASSERT_GT(rows_of(db, t, ids[0]), 0) << t.name;
  db.delete_run(ids[0]);
  for (const auto& t : kRunTables) {
    EXPECT_EQ(rows_of(db, t, ids[0]), 0) << t.name;
    EXPECT_GT(rows_of(db, t, ids[1]), 0) << t.name;
  }
  EXPECT_EQ(db.list_runs().size(), 1u);
}

// Resuming from epoch 1 drops what came later in every per-epoch table and
// the results of the end, and keeps the log (with a line more).
TEST_F(DbTest, PreparingAResumeTrimsEveryRunTableAsItsEntrySays) {
  Database db(path());
  const auto id = full_run(db);
  std::map<std::string, std::int64_t> before;
  for (const auto& t : kRunTables) before[t.name] = rows_of(db, t, id);
  db.prepare_resume(id, 1);
  for (const auto& t : kRunTables) {
    switch (t.on_resume) {
      case OnResume::Keep:
        EXPECT_GE(rows_of(db, t, id), before[t.name]) << t.name;
        break;
      case OnResume::DropAll:
        EXPECT_EQ(rows_of(db, t, id), 0) << t.name;
        break;
      case OnResume::DropLaterEpochs:
        EXPECT_EQ(rows_of(db, t, id, std::string(t.epoch_column) + " > 1"), 0) << t.name;
        EXPECT_GT(rows_of(db, t, id, std::string(t.epoch_column) + " = 1"), 0) << t.name;
        break;
    }
  }
  const auto run = db.load_run(id);
  EXPECT_EQ(run->run.status, "queued");
  EXPECT_EQ(run->run.epochs_done, 1);
  EXPECT_TRUE(run->finals.empty());
  EXPECT_TRUE(run->run.probes.empty());
}

}  // namespace
}  // namespace ssrl::storage
