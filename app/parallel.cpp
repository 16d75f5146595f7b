// Data-parallel launching: roles from the environment, local ranks.
#include "parallel.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "commands.hpp"
#include "ssrl/errors.hpp"

namespace ssrl::app {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

int env_int(const char* name, const std::string& text) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw ConfigError(name, std::string("environment variable ") + name + " must be an integer (got '" + text + "')");
}

}  // namespace

std::optional<DataParallel> parallel_role() {
  DataParallel p;
  const char* rank_var = nullptr;
  const char* world_var = nullptr;
  if (!env("SSRL_RANK").empty()) {
    rank_var = "SSRL_RANK", world_var = "SSRL_WORLD_SIZE";
  } else if (!env("RANK").empty() && !env("WORLD_SIZE").empty()) {
    rank_var = "RANK", world_var = "WORLD_SIZE";
  } else if (!env("SLURM_PROCID").empty() && !env("SLURM_STEP_NUM_TASKS").empty() &&
             env_int("SLURM_STEP_NUM_TASKS", env("SLURM_STEP_NUM_TASKS")) > 1) {
    rank_var = "SLURM_PROCID", world_var = "SLURM_STEP_NUM_TASKS";
  } else {
    return std::nullopt;
  }
  p.rank = env_int(rank_var, env(rank_var));
  p.world = env_int(world_var, env(world_var));
  if (p.world < 2) return std::nullopt;
  const std::string addr = !env("SSRL_MASTER_ADDR").empty() ? env("SSRL_MASTER_ADDR") : env("MASTER_ADDR");
  const std::string port = !env("SSRL_MASTER_PORT").empty() ? env("SSRL_MASTER_PORT") : env("MASTER_PORT");
  if (addr.empty() || port.empty())
    throw ConfigError("MASTER_ADDR", std::string(rank_var) + " and " + world_var +
                                         " say this is one of several processes; set MASTER_ADDR and MASTER_PORT to the first "
                                         "process's host and a free port");
  p.master_addr = addr;
  p.master_port = env_int("MASTER_PORT", port);
  return p;
}

namespace {

// A free TCP port on the loopback for the rendezvous.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    throw Error(std::string("cannot find a free port for the data-parallel rendezvous: ") + std::strerror(errno));
  }
  close(fd);
  return ntohs(a.sin_port);
}

// Ranks 1..n-1 of `run --nproc n`: this program again, same arguments, the
// role in the environment. They die with the parent.
std::vector<pid_t> start_ranks(int n, int port) {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  if (args.empty()) throw Error("cannot read this program's arguments to start the other processes");
  args.erase(args.begin());
  std::vector<pid_t> pids;
  for (int r = 1; r < n; ++r)
    pids.push_back(spawn_self(args,
                              {{"SSRL_RANK", std::to_string(r)},
                               {"SSRL_WORLD_SIZE", std::to_string(n)},
                               {"SSRL_MASTER_ADDR", "127.0.0.1"},
                               {"SSRL_MASTER_PORT", std::to_string(port)}},
                              SIGKILL));
  return pids;
}

}  // namespace

// Watches the other ranks while rank 0 trains: one that dies leaves the
// rest blocked in a collective, so the whole run ends at once.
class LocalRanks::Watch {
 public:
  explicit Watch(std::vector<pid_t> pids) : pids_(std::move(pids)), thread_([this] { watch(); }) {}
  ~Watch() {
    done_ = true;
    thread_.join();
  }
  // Waits for every rank; true when all exited cleanly (0 or interrupted).
  bool join() {
    done_ = true;
    thread_.join();
    thread_ = std::thread([] {});
    bool ok = failed_ == 0;
    for (pid_t p : pids_) {
      if (p <= 0) continue;
      int status = 0;
      waitpid(p, &status, 0);
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (code != kOk && code != kInterrupted) ok = false;
    }
    return ok;
  }

 private:
  void watch() {
    while (!done_) {
      for (std::size_t i = 0; i < pids_.size(); ++i) {
        if (pids_[i] <= 0) continue;
        int status = 0;
        if (waitpid(pids_[i], &status, WNOHANG) != pids_[i]) continue;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pids_[i] = -1;
        if (code == kOk || code == kInterrupted) continue;
        ++failed_;
        std::fprintf(stderr, "error: data-parallel rank %zu exited with code %d; stopping the run\n", i + 1, code);
        for (pid_t p : pids_)
          if (p > 0) kill(p, SIGKILL);
        _exit(kFailure);  // rank 0 is blocked in a collective; the run shows as interrupted
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  std::vector<pid_t> pids_;
  std::atomic<bool> done_{false};
  std::atomic<int> failed_{0};
  std::thread thread_;
};

LocalRanks::LocalRanks(int n) {
  const int port = free_port();
  watch_ = std::make_unique<Watch>(start_ranks(n, port));
  role_.rank = 0;
  role_.world = n;
  role_.master_port = port;
}

LocalRanks::~LocalRanks() = default;

bool LocalRanks::join() { return watch_->join(); }

}  // namespace ssrl::app
