#pragma once
// Terminal progress for training runs: one rewritten line on a TTY, plain
// lines otherwise (logs, CI, pipes).

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "ssrl/trainer.hpp"

namespace ssrl::app {

std::string format_duration(double seconds);  // "1:05", "1:02:03"
// "nearest-neighbour angle mean 80.1°, min ..., SD 3.2° (optimum min 90° for 5 points)"
std::string separation_text(const SeparationStats& s, int clusters);
bool stderr_is_tty();

// Progress of a single run.
class RunProgress : public TrainObserver {
 public:
  RunProgress(std::string label, int epochs, bool tty, bool quiet);
  void on_start(const RunStart& start) override;
  void on_epoch(const EpochRecord& r) override;
  void on_finish(const RunOutcome& outcome) override;

 private:
  std::string label_;
  int epochs_;
  bool tty_, quiet_;
  std::chrono::steady_clock::time_point t0_;
  int every_;
};

// Progress of a batch of runs executed by several workers.
class BatchProgress {
 public:
  BatchProgress(int total_runs, bool tty, bool quiet);
  void started(int slot, const std::string& label, int epochs);
  void epoch(int slot, int epoch);
  void finished(int slot, const std::string& line);

 private:
  void redraw_locked();
  std::mutex mu_;
  int total_, done_ = 0;
  bool tty_, quiet_;
  std::chrono::steady_clock::time_point t0_;
  struct Slot {
    std::string label;
    int epoch = 0, epochs = 0;
    bool active = false;
  };
  std::vector<Slot> slots_;
  std::chrono::steady_clock::time_point last_draw_;
  double epochs_total_done_ = 0;
};


}  // namespace ssrl::app
