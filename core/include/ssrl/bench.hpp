#pragma once
// Micro-benchmarks of the losses and MI estimators (the `bench` command).
// Timing lives here, never in tests.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ssrl {

struct BenchRow {
  std::string what;  // "cos-DV loss fwd+bwd", "MI estimates"
  std::string path;  // "fused blockwise", "dense N x N", ...
  std::int64_t n = 0;
  std::int64_t d = 0;
  double ms_median = 0;
  double ms_min = 0;
  double peak_mib = 0;  // peak tensor memory allocated during one call
  int repeats = 0;
};

struct BenchOptions {
  std::vector<std::int64_t> sizes{512, 2500, 10000};
  std::int64_t dim = 3;
  int repeats = 5;
  bool dense = true;  // also time the dense N x N references
};

std::vector<BenchRow> run_kernel_benchmarks(const BenchOptions& opt,
                                            const std::function<void(const BenchRow&)>& progress);

}  // namespace ssrl
