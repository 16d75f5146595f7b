// Child processes that are this program again: sweep workers, data-parallel ranks.
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "commands.hpp"
#include "ssrl/errors.hpp"

namespace ssrl::app {

std::string self_exe() {
  std::error_code ec;
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw Error("cannot find this program's path to start other processes: " + ec.message());
  return exe;
}

pid_t spawn_self(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& env,
                 int parent_death_signal) {
  std::vector<std::string> argv_s = {self_exe()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw Error(std::string("cannot start a process: ") + std::strerror(errno));
  if (pid > 0) return pid;
  // The child: only async-signal-safe work until exec, as far as possible.
  if (parent_death_signal != 0) {
    prctl(PR_SET_PDEATHSIG, parent_death_signal);
    if (getppid() != parent) _exit(1);
  }
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

}  // namespace ssrl::app
