// Stop signals for runs: the first SIGINT/SIGTERM/SIGHUP asks the trainer to
// stop after the current step; a second one, a second later, ends the process.
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <ctime>

#include "commands.hpp"

namespace ssrl::app {
namespace {

StopFlag g_stop;
volatile std::sig_atomic_t g_signals = 0;

extern "C" void on_stop_signal(int sig) {
  // One stop often arrives twice at once (a terminal's Ctrl-C reaches the
  // whole process group, `timeout` and Slurm signal the group too): only a
  // repeat a second later means "quit at once".
  static timespec first{};
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (g_signals > 0 && now.tv_sec - first.tv_sec + (now.tv_nsec - first.tv_nsec) * 1e-9 < 1.0) return;
  if (g_signals == 0) first = now;
  g_signals = g_signals + 1;
  if (g_signals > 1) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop.requested.store(true);
  static const char msg[] = "\nstopping after the current step (press Ctrl-C again to quit at once)\n";
  (void)!write(2, msg, sizeof msg - 1);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);  // the terminal is gone: stop as on Ctrl-C, keep the checkpoint
  // A reader that went away (`| head`) ends the printing; writes then fail
  // with EPIPE and are dropped, and the run goes on.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

bool stop_requested() { return g_stop.requested.load(); }

const StopFlag* stop_flag() { return &g_stop; }

}  // namespace ssrl::app
