#pragma once
// The CLI test fixture: a scratch folder and database per test, and the
// built binary run with --db first, its streams and exit code captured.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ssrl/storage/database.hpp"

namespace wb_test {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out, err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ssrl-cli-test-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "w.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the binary with --db first; captures both streams and the exit code.
  Result run(std::vector<std::string> args, const std::string& db = "") const {
    const auto out = dir_ / "stdout", err = dir_ / "stderr";
    int status = 0;
    waitpid(spawn(args, out.string(), err.string(), db), &status, 0);
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  // The binary with --db first, in the background, its streams to /dev/null.
  pid_t start(const std::vector<std::string>& args) const { return spawn(args, "/dev/null", "/dev/null", ""); }

  // Ctrl-C to a started binary; its wait status once it has stopped.
  static int interrupt(pid_t pid) {
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
  }

  // Reads the runs every 50 ms until `enough` holds or `timeout_ms` passes;
  // returns the last list read (a writer may hold the file: then it waits).
  std::vector<ssrl::storage::RunRow> poll_runs(const std::function<bool(const std::vector<ssrl::storage::RunRow>&)>& enough,
                                               int timeout_ms) const {
    std::vector<ssrl::storage::RunRow> rows;
    for (int waited = 0; waited < timeout_ms && !enough(rows); waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      try {
        if (fs::exists(db_)) rows = ssrl::storage::Database(db_, ssrl::storage::Database::Mode::ReadOnly).list_runs();
      } catch (...) {
      }
    }
    return rows;
  }

  std::size_t run_count() const {
    if (!fs::exists(db_)) return 0;
    ssrl::storage::Database db(db_, ssrl::storage::Database::Mode::ReadOnly);
    return db.list_runs().size();
  }

  fs::path dir_;
  std::string db_;

 private:
  pid_t spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err,
              const std::string& db) const {
    std::vector<std::string> argv = {WB_CLI, "--db", db.empty() ? db_ : db};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = fork();
    if (pid == 0) {
      freopen(out.c_str(), "w", stdout);
      freopen(err.c_str(), "w", stderr);
      std::vector<char*> cargs;
      for (auto& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
      cargs.push_back(nullptr);
      execv(cargs[0], cargs.data());
      _exit(127);
    }
    return pid;
  }
};

}  // namespace wb_test
