#pragma once
// Thin RAII over the SQLite C API: prepared statements with bound
// parameters only, results read by column name, errors as StorageError
// naming the database.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

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

class Statement;

// The current row of a statement, read by result column name: the name a
// plain column has in its table, or the `AS` name an expression is given.
// A name the query does not produce (a typo, or a column not selected) is a
// programming error and throws StorageError; so does reading when no row is
// there. Valid until the next step() or reset() of its statement.
class Row {
 public:
  std::int64_t integer(std::string_view column) const { return sqlite3_column_int64(stmt(), index(column)); }
  std::optional<std::int64_t> integer_or_null(std::string_view column) const {
    const int i = index(column);
    if (sqlite3_column_type(stmt(), i) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(stmt(), i);
  }
  double real(std::string_view column) const { return sqlite3_column_double(stmt(), index(column)); }
  std::optional<double> real_or_null(std::string_view column) const {
    const int i = index(column);
    if (sqlite3_column_type(stmt(), i) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_double(stmt(), i);
  }
  std::string text(std::string_view column) const {
    const auto* p = sqlite3_column_text(stmt(), index(column));
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }
  bool is_null(std::string_view column) const { return sqlite3_column_type(stmt(), index(column)) == SQLITE_NULL; }

 private:
  friend class Statement;
  explicit Row(const Statement& st) : st_(st) {}
  sqlite3_stmt* stmt() const;
  int index(std::string_view column) const;
  const Statement& st_;
};

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) raise(db, rc, "preparing a query");
  }
  Statement(sqlite3* db, const std::string& sql) : Statement(db, sql.c_str()) {}
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
    has_row_ = false;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return has_row_ = true;
    if (rc == SQLITE_DONE) return false;
    raise(db_, rc, "running a query");
  }
  void run() {
    while (step()) {
    }
  }
  void reset() {
    has_row_ = false;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // The current row (after step() returned true), read by column name.
  Row row() const { return Row(*this); }

 private:
  friend class Row;
  Statement& check(int rc) {
    if (rc != SQLITE_OK) raise(db_, rc, "binding a parameter");
    return *this;
  }
  // The result column called `column`; the names are mapped once per statement.
  int column_index(std::string_view column) const {
    if (columns_.empty()) {
      const int n = sqlite3_column_count(stmt_);
      for (int i = 0; i < n; ++i) {
        const char* name = sqlite3_column_name(stmt_, i);
        if (name == nullptr) continue;
        // A name given twice cannot be read by name: -1 marks it ambiguous.
        const auto [it, added] = columns_.emplace(name, i);
        if (!added) it->second = -1;
      }
    }
    const auto it = columns_.find(column);
    std::string why;
    if (it == columns_.end())
      why = "the query has no result column named '" + std::string(column) + "'";
    else if (it->second < 0)
      why = "the query has more than one result column named '" + std::string(column) + "'";
    else if (!has_row_)
      why = "column '" + std::string(column) + "' read with no current row";
    if (!why.empty()) {
      const char* file = sqlite3_db_filename(db_, "main");
      const char* sql = sqlite3_sql(stmt_);
      throw StorageError("database '" + std::string(file != nullptr ? file : "") + "': programming error: " + why +
                         " (query: " + (sql != nullptr ? sql : "?") + ")");
    }
    return it->second;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool has_row_ = false;
  mutable std::map<std::string, int, std::less<>> columns_;
};

inline sqlite3_stmt* Row::stmt() const { return st_.stmt_; }
inline int Row::index(std::string_view column) const { return st_.column_index(column); }

// The single value of a one-row, one-column query (a count, a pragma), by
// its column name; `fallback` when the query gives no row.
inline std::int64_t query_integer(sqlite3* db, const std::string& sql, std::string_view column, std::int64_t fallback = 0) {
  Statement st(db, sql);
  return st.step() ? st.row().integer(column) : fallback;
}

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
