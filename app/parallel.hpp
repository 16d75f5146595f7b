#pragma once
// Data-parallel runs: this process's place in one (from `run --nproc`, a
// torchrun-style launcher or srun), and the local launcher of `run --nproc`.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <vector>

#include "ssrl/trainer.hpp"

namespace ssrl::app {

// This process's role, from the environment: ours (SSRL_RANK, set by
// `run --nproc`), RANK/WORLD_SIZE with MASTER_ADDR/MASTER_PORT, or srun's
// SLURM_PROCID; nullopt when it is the only process.
std::optional<DataParallel> parallel_role();

// `run --nproc n`: ranks 1..n-1 are this program again with the same
// arguments and their role in the environment; they die with the parent,
// and if one fails the whole run ends at once.
class LocalRanks {
 public:
  explicit LocalRanks(int n);
  ~LocalRanks();
  LocalRanks(const LocalRanks&) = delete;
  LocalRanks& operator=(const LocalRanks&) = delete;
  // Rank 0's role (this process).
  const DataParallel& role() const { return role_; }
  // Waits for every other rank; true when all exited cleanly (or interrupted).
  bool join();

 private:
  class Watch;
  DataParallel role_;
  std::unique_ptr<Watch> watch_;
};

}  // namespace ssrl::app
