// `bench startup`: how long commands take from exec to exit, each run as a
// fresh process of this program, and how long the window takes to appear
// and to have LibTorch loaded. Commands that only read the database or print
// what the program knows should never load LibTorch (ssrl/engine.hpp).
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.hpp"
#include "ssrl/config.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/runner/recorder.hpp"
#include "ssrl/storage/database.hpp"

extern char** environ;

namespace ssrl::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// This program with `args`, its output to /dev/null, `extra` added to the
// environment (file descriptors without FD_CLOEXEC stay open in it).
pid_t start(const std::vector<std::string>& args, const std::vector<std::string>& extra) {
  std::vector<std::string> argv_s = {self_exe()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s(extra);
  for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw Error(std::string("bench startup: cannot start a process: ") + std::strerror(rc));
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Row {
  std::string what;
  std::vector<double> ms;
  std::string note;
};

void print(const Row& r) {
  if (r.ms.empty()) {
    std::printf("%-34s %9s %9s %9s   %s\n", r.what.c_str(), "-", "-", "-", r.note.c_str());
  } else {
    double sum = 0;
    for (const double v : r.ms) sum += v;
    std::printf("%-34s %9.1f %9.1f %9.1f   %s\n", r.what.c_str(), sum / static_cast<double>(r.ms.size()),
                *std::min_element(r.ms.begin(), r.ms.end()), *std::max_element(r.ms.begin(), r.ms.end()),
                r.note.c_str());
  }
  std::fflush(stdout);
}

// The window under `gui`: milliseconds from exec to its first paint and to
// LibTorch loaded, read from its report pipe; empty when it failed.
std::vector<double> window_times(const std::string& db, const std::string& scratch) {
  int fds[2];
  if (pipe(fds) != 0) throw Error("bench startup: cannot create a pipe");
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  const auto t0 = Clock::now();
  const pid_t pid = start({"--db", db, "gui"}, {"SSRL_STARTUP_REPORT=" + std::to_string(fds[1]),
                                                "XDG_CONFIG_HOME=" + scratch});
  close(fds[1]);
  std::vector<double> times;
  std::string got;
  while (times.size() < 2) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 60000) <= 0) break;
    char buf[64];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i)
      if (buf[i] == '\n') times.push_back(ms_since(t0));
  }
  close(fds[0]);
  if (times.size() < 2) kill(pid, SIGKILL);
  wait_exit(pid);
  return times;
}

}  // namespace

int cmd_bench_startup(int repeats, bool window) {
  if (repeats < 1) throw ConfigError("repeats", "must be at least 1");
  // A scratch database with one stored run, never the user's.
  char tmpl[] = "/tmp/ssrl-bench-startup-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw Error("bench startup: cannot create a scratch folder in /tmp");
  const std::string scratch = tmpl;
  const std::string db = scratch + "/bench.db";
  {
    storage::Database d(db);
    d.create_run(runner::new_run_row(ConfigBuilder("sdmi").build(), "bench-startup"));
  }
  struct Case {
    std::string what;
    std::vector<std::string> args;
  };
  const std::vector<Case> cases = {
      {"--version", {"--version"}},
      {"--help", {"--help"}},
      {"presets", {"presets"}},
      {"methods", {"methods"}},
      {"settings", {"settings"}},
      {"runs", {"--db", db, "runs"}},
      {"show 1", {"--db", db, "show", "1"}},
      {"sweep status", {"--db", db, "sweep", "status"}},
      {"sweep plan gaussian/demo", {"sweep", "plan", "gaussian/demo"}},
      {"devices (loads LibTorch)", {"devices"}},
  };
  std::printf("%-34s %9s %9s %9s\n", "command (exec to exit)", "mean ms", "min ms", "max ms");
  int failures = 0;
  for (const auto& c : cases) {
    Row row{c.what, {}, ""};
    for (int i = 0; i < repeats; ++i) {
      const auto t0 = Clock::now();
      const int code = wait_exit(start(c.args, {}));
      if (code != 0) {
        row.note = "exit code " + std::to_string(code);
        ++failures;
        break;
      }
      row.ms.push_back(ms_since(t0));
    }
    print(row);
  }
  const auto set = [](const char* v) { return std::getenv(v) != nullptr && *std::getenv(v) != '\0'; };
  if (window && !set("DISPLAY") && !set("WAYLAND_DISPLAY")) {
    print({"window", {}, "not measured: no display (xvfb-run -a ssrl-workbench bench startup)"});
  } else if (window) {
    Row shown{"window: first paint", {}, ""}, loaded{"window: LibTorch loaded", {}, ""};
    for (int i = 0; i < repeats; ++i) {
      const auto t = window_times(db, scratch);
      if (t.size() < 2) {
        shown.note = "the window did not report (no display? try xvfb-run -a)";
        ++failures;
        break;
      }
      shown.ms.push_back(t[0]);
      loaded.ms.push_back(t[1]);
    }
    print(shown);
    print(loaded);
  }
  std::printf("%d repeats; each a fresh process of %s (output discarded).\n", repeats, self_exe().c_str());
  std::error_code ec;
  fs::remove_all(scratch, ec);
  return failures == 0 ? kOk : kFailure;
}

}  // namespace ssrl::app
