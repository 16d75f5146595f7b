#pragma once
// The engine: everything that needs LibTorch (training, probes, benchmarks,
// the MI calibration, weights export) is built into one shared library,
// libssrl-engine.so, that the program loads with dlopen the first time a
// command needs it. Commands that only read or write the database or print
// what the program knows (runs, show, presets, --version...) never load
// LibTorch, and the window opens before it and loads it in the background.
//
// The program calls the engine's functions by their usual names (ssrl::train
// in trainer.hpp, ...): in the program those are forwarders to the table
// below (core/src/engine/client.cpp); the engine library and the tests link
// the real ones (wb_core). A function of wb_core that the program starts to
// call needs a slot here, else the program does not link. No torch here.

#include <functional>
#include <string>
#include <vector>

#include "ssrl/bench.hpp"
#include "ssrl/calibration.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/trainer.hpp"
#include "ssrl/weights.hpp"

namespace ssrl {

// The engine library is missing, cannot be loaded (a missing LibTorch), or
// belongs to another build.
class EngineError : public Error {
 public:
  using Error::Error;
};

// The engine's entry points. `abi` comes first and stays first: it is read
// before anything else to refuse a library built from other headers.
struct EngineApi {
  const char* abi;
  RunOutcome (*train)(const RunConfig&, TrainObserver&, const TrainControl&);
  RunOutcome (*random_init_probe)(const RunConfig&, TrainObserver&);
  int (*checkpoint_epoch)(const std::string&);
  std::string (*resolve_device)(const std::string&);
  std::string (*rank_device)(const std::string&, const std::string&, int);
  bool (*cuda_available)();
  void (*set_torch_threads)(int);
  std::string (*torch_version)();
  std::vector<BenchRow> (*run_kernel_benchmarks)(const BenchOptions&, const std::function<void(const BenchRow&)>&);
  std::vector<TrainBenchRow> (*run_training_benchmarks)(const TrainBenchOptions&,
                                                        const std::function<void(const TrainBenchRow&)>&);
  std::vector<CalibrationRow> (*run_mi_calibration)(const CalibrationOptions&,
                                                    const std::function<void(const std::string&)>&);
  WeightsExport (*export_weights)(const RunConfig&, const std::string&, const std::string&, const std::string&,
                                  const std::string&);
};

// Loads the engine now if it is not loaded yet (blocking; safe from any
// thread: a second caller waits for the first). EngineError says which
// files were tried and why they failed. Linked with wb_core directly (the
// tests), it does nothing.
void load_engine();
// Whether the engine is loaded (the tests: always).
bool engine_loaded();
// The LibTorch version the program was built against, known without loading
// it ("1.13.1"), and whether that LibTorch was built with CUDA.
std::string torch_build_version();
bool torch_build_has_cuda();

// Process-wide setup, first thing in main(): OMP_WAIT_POLICY=passive for the
// OpenMP that LibTorch loads. The program's only (core/src/engine/client.cpp).
void prepare_process(int argc, char** argv);
// For a command that will load the engine, before it does anything: if
// OpenMP was loaded before main() (a dependency of Qt's brings it), it has
// read its wait policy already, so the process re-executes itself once with
// the passive one. Does nothing otherwise.
void reexec_for_openmp();

}  // namespace ssrl

// The engine library's one exported symbol.
extern "C" const ssrl::EngineApi* ssrl_engine_api();
