#pragma once
// The CLI test fixture: a scratch folder and database per test, and the
// built binary run with --db first, its streams and exit code captured.
// Binaries started in the background and still running when a test ends
// are killed.
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
#include <utility>
#include <vector>

#include "ssrl/storage/database.hpp"
#include "support/temp_dir.hpp"

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

class Cli : public TempDirTest {
 protected:
  using Runs = std::vector<ssrl::storage::RunRow>;

  void SetUp() override {
    TempDirTest::SetUp();
    db_ = (dir_ / "w.db").string();
  }
  void TearDown() override {
    for (const pid_t pid : started_) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == 0) {  // still ours and running
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
      }
    }
    TempDirTest::TearDown();
  }

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
  pid_t start(const std::vector<std::string>& args) {
    const pid_t pid = spawn(args, "/dev/null", "/dev/null", "");
    started_.push_back(pid);
    return pid;
  }

  // Ctrl-C to a started binary; its wait status once it has stopped.
  static int interrupt(pid_t pid) {
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
  }

  // The runs stored now; none while the file is missing or cannot be read.
  Runs runs_now() const { return read_runs(); }

  // Reads the runs every 50 ms until `enough` holds or `timeout_ms` passes;
  // returns the last list read (a writer may hold the file: then it waits).
  Runs poll_runs(const std::function<bool(const Runs&)>& enough, int timeout_ms) const {
    Runs rows;
    for (int waited = 0; waited < timeout_ms && !enough(rows); waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      rows = read_runs();
    }
    return rows;
  }

  // Ctrl-C to a started binary at a point the test chooses, never too late:
  // waits until the stored runs satisfy `ready`, freezes the process
  // (SIGSTOP) so that nothing moves on, checks `ready` again on what the
  // database holds then, and only then sends SIGINT and lets the process
  // continue. (Should the state have moved past `ready` in between, the
  // process continues and the wait goes on.) Returns the runs as they were
  // when the signal was sent and the process's wait status once it has
  // stopped. A process that ends first, or `ready` not holding within
  // `timeout_ms`, fails the test (status -1) rather than going untested.
  std::pair<Runs, int> interrupt_when(pid_t pid, const std::function<bool(const Runs&)>& ready, int timeout_ms,
                                      int signal = SIGINT) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (!ready(poll_runs(ready, static_cast<int>(left)))) break;
      int status = 0;
      kill(pid, SIGSTOP);
      if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
        ADD_FAILURE() << "the process ended before it could be interrupted (wait status " << status << ")";
        return {read_runs(), -1};
      }
      const Runs now = read_runs();
      if (ready(now)) {
        kill(pid, signal);  // pending until the process continues
        kill(pid, SIGCONT);
        waitpid(pid, &status, 0);
        return {now, status};
      }
      kill(pid, SIGCONT);
    }
    ADD_FAILURE() << "the runs never reached the state to interrupt in within " << timeout_ms << " ms";
    return {read_runs(), -1};
  }

  std::size_t run_count() const {
    if (!fs::exists(db_)) return 0;
    ssrl::storage::Database db(db_, ssrl::storage::Database::Mode::ReadOnly);
    return db.list_runs().size();
  }

  std::string db_;

 private:
  // The runs stored now; none while the file is missing or cannot be read
  // (a writer may hold it: then it waits).
  Runs read_runs() const {
    try {
      if (fs::exists(db_)) return ssrl::storage::Database(db_, ssrl::storage::Database::Mode::ReadOnly).list_runs();
    } catch (...) {
    }
    return {};
  }

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

  std::vector<pid_t> started_;
};

}  // namespace wb_test
