#pragma once
// What the files of the Database class share and nothing outside storage
// needs: the tables that belong to a run, and small helpers.
//   schema.cpp  opening, pragmas, application id, migrations
//   runs.cpp    one run: create, record, resume, list, load, log, delete
//   sweeps.cpp  sweeps and their queue: ensure, list, find, claim, requeue
//   merge.cpp   merging a shard database into this one

#include <unistd.h>

#include <string>

#include "ssrl/storage/database.hpp"

struct sqlite3;

namespace ssrl::storage {

// What preparing a run for resumption does to a table's rows.
enum class OnResume {
  Keep,            // kept as they are (the log)
  DropLaterEpochs, // rows of epochs after the checkpoint's are dropped
  DropAll,         // results of a finished run: dropped, the resumed run writes them again
};

struct RunTable {
  const char* name;
  const char* run_column;  // holds runs.id
  OnResume on_resume;
  const char* epoch_column = nullptr;  // with DropLaterEpochs
};

// Every table whose rows belong to one run, parents before children (a
// table's foreign key references one listed before it): deleting, merging
// and resuming a run all walk this list. A new per-run table is one line
// here plus its migration in schema.cpp; the merge copies all its columns.
inline constexpr RunTable kRunTables[] = {
    {"epochs", "run_id", OnResume::DropLaterEpochs, "epoch"},
    {"centres", "run_id", OnResume::DropLaterEpochs, "epoch"},  // references epochs
    {"collapse", "run_id", OnResume::DropLaterEpochs, "epoch"},  // references epochs
    {"final_stats", "run_id", OnResume::DropAll},
    {"probes", "run_id", OnResume::DropAll},
    {"run_log", "run_id", OnResume::Keep},
};

inline std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// Inserts a queued run row (runs.cpp); `host` is this machine's name.
void insert_run(sqlite3* db, const NewRun& run, const std::string& host);

}  // namespace ssrl::storage
