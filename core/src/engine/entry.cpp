// The engine library's table of entry points (libssrl-engine.so only); its
// version script exports ssrl_engine_api alone, so that calls inside the
// library never bind to the program's forwarders of the same names.
#include "ssrl/engine.hpp"

extern "C" __attribute__((visibility("default"))) const ssrl::EngineApi* ssrl_engine_api() {
  using namespace ssrl;
  static const EngineApi api{
      SSRL_ENGINE_ABI,
      static_cast<RunOutcome (*)(const RunConfig&, TrainObserver&, const TrainControl&)>(&train),
      &random_init_probe,
      &checkpoint_epoch,
      &resolve_device,
      &rank_device,
      &cuda_available,
      &set_torch_threads,
      &torch_version,
      &run_kernel_benchmarks,
      &run_training_benchmarks,
      &run_mi_calibration,
      &export_weights,
  };
  return &api;
}
