#pragma once
// The one way to run a run: create or continue a stored run, choose its
// checkpoint folder, train it with the recorder attached, report through an
// observer. The CLI (run, resume, reproduce), the sweep workers and the GUI's
// worker all come through here. Torch-free: LibTorch stays behind train().

#include <cstdint>
#include <optional>
#include <string>

#include "ssrl/config.hpp"
#include "ssrl/runner/recorder.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl::runner {

struct RunOptions {
  TrainObserver* observer = nullptr;  // told every event after the database (progress, GUI signals)
  const StopFlag* stop = nullptr;
  std::optional<DataParallel> parallel;  // this process is rank 0 of a data-parallel run
};

class Runner {
 public:
  explicit Runner(storage::Database& db) : db_(db) {}

  // A new run of `cfg`. Its row appears when training starts: settings or
  // data refused before that (ConfigError, DataError) leave no run behind.
  RunOutcome run(const RunConfig& cfg, const std::string& tag, const RunOptions& options = {});

  // A stored run that is to train now (a sweep's claimed run): it continues
  // from its checkpoint when it has one, else starts from the beginning. A
  // run refused before training (damaged data, a missing GPU) is stored as
  // failed, and the error is thrown on.
  RunOutcome run_stored(std::int64_t run_id, const RunOptions& options = {});

  // `run --resume`: an interrupted or failed run continues from its last
  // checkpoint; what was stored after that checkpoint is dropped first.
  // ConfigError when the run cannot resume (wrong status, no checkpoint).
  RunOutcome resume(const std::string& id_or_name, const RunOptions& options = {});

  // The untrained encoder of `cfg`'s method, linear-probed: the baseline of
  // every image run, stored as a run of method "random-init".
  RunOutcome random_init(const RunConfig& cfg, const std::string& tag, TrainObserver* observer = nullptr);

  // The run being trained, or the last one (-1 before any has started).
  std::int64_t run_id() const { return run_id_; }
  // Its name in the database.
  const std::string& run_name() const { return run_name_; }

 private:
  RunOutcome train_with(RunRecorder& recorder, const RunConfig& cfg, TrainControl control, const RunOptions& options);

  storage::Database& db_;
  std::int64_t run_id_ = -1;
  std::string run_name_;
};

}  // namespace ssrl::runner
