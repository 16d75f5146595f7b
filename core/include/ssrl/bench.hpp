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

// Training throughput on images: per method, encoder and input, the images
// per second of full training steps (two augmented views, forward,
// backward, optimiser step), of the same steps on views made beforehand
// (what an eager reference on pre-made views measures), and of the data
// pipeline alone (loading and augmenting the two views).
struct TrainBenchRow {
  std::string input;    // "fashion-mnist", "synthetic 32x32x3"
  std::string encoder;  // "small-cnn", "resnet18"
  std::string method;   // "(data pipeline)" for the pipeline alone
  int batch = 0;
  int steps = 0;
  double images_per_s = 0;
  double step_images_per_s = 0;  // the step alone, on two views made beforehand (0: not measured)
  double step_cpu_images_per_s = 0;  // the same per second of this process's CPU time (less sensitive to other load)
};

struct TrainBenchOptions {
  std::vector<std::string> encoders{"small-cnn", "resnet18"};
  std::vector<std::string> methods;  // empty: every method
  int steps = 3;                     // timed steps (after one warm-up step)
  int batch_small = 256;             // batch for the small CNN
  int batch_resnet = 64;             // batch for ResNet-18 (CPU-sized)
  std::string fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";  // skipped when absent
  std::string device = "auto";
  int threads = 1;
};

std::vector<TrainBenchRow> run_training_benchmarks(const TrainBenchOptions& opt,
                                                   const std::function<void(const TrainBenchRow&)>& progress);

}  // namespace ssrl
