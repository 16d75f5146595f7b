#pragma once
// Thin RAII over the SQLite C API: prepared statements with bound
// parameters only, errors as StorageError naming the database.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

#include "ssrl/errors.hpp"

namespace ssrl::storage {

[[noreturn]] inline void raise(sqlite3* db, int rc, const std::string& what) {
  std::string file = db != nullptr && sqlite3_db_filename(db, "main") != nullptr ? sqlite3_db_filename(db, "main") : "";
  std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int primary = rc & 0xff;
  std::string prefix = "database '" + file + "': ";
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    throw StorageError(prefix + "locked by another process (" + what + "); try again when it is done");
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
    throw StorageError(prefix + "not an SSRL Workbench database, or damaged (" + msg + ")");
  if (primary == SQLITE_READONLY)
    throw StorageError(prefix + "read-only (" + msg + ")");
  if (primary == SQLITE_FULL) throw StorageError(prefix + "disk full while " + what);
  throw StorageError(prefix + what + " failed: " + msg);
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) raise(db, rc, "preparing a query");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, int v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(stmt_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Statement& bind(int i, const std::optional<double>& v) {
    return v ? bind(i, *v) : check(sqlite3_bind_null(stmt_, i));
  }
  Statement& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }

  // True while a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    raise(db_, rc, "running a query");
  }
  void run() {
    while (step()) {
    }
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<double> opt_real(int col) const {
    if (is_null(col)) return std::nullopt;
    return real(col);
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) raise(db_, rc, "binding a parameter");
    return *this;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

inline void exec(sqlite3* db, const char* sql, const std::string& what) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    raise(db, rc, what);
  }
}

// BEGIN IMMEDIATE ... COMMIT, rolled back if the scope is left by an exception.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN IMMEDIATE", "starting a transaction"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, "COMMIT", "committing");
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

}  // namespace ssrl::storage
