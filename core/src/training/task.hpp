#pragma once
// A training task: where the views come from, how a method is evaluated after
// each epoch, and what is reported at the end. The Gaussian experiment and the
// image data sets are the two kinds.

#include <torch/torch.h>

#include <memory>

#include "methods/method.hpp"
#include "ssrl/records.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl {

class Task {
 public:
  virtual ~Task() = default;
  // Networks and sizes the methods are built with.
  virtual std::function<EncoderPtr()> encoder_factory() const = 0;
  virtual std::int64_t embed_dim() const = 0;
  virtual int steps_per_epoch() const = 0;
  // The views of one epoch; `stop` cuts a pass short after the current step.
  virtual std::unique_ptr<EpochData> epoch_data(int epoch, const StopFlag* stop) = 0;
  // MI, collapse indicators, centres or kNN accuracy, in eval mode. In a
  // data-parallel run every rank calls it (the work may be shared); rank 0's
  // record is the one reported.
  virtual void evaluate(Method& method, EpochRecord& record) = 0;
  // End-of-run statistics: separation (Gaussian), linear probe (images).
  virtual void finish(Method& method, const std::vector<EncoderCentres>& last_centres, RunOutcome& outcome) = 0;
};

// Data are loaded (and checked) here, before the run starts; DataError
// names the file and the problem.
std::unique_ptr<Task> make_gaussian_task(const RunConfig& cfg, torch::Device device, at::Generator& gen);
std::unique_ptr<Task> make_image_task(const RunConfig& cfg, torch::Device device, at::Generator& gen);

}  // namespace ssrl
