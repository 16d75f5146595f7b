#include "training/checkpoint.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ssrl/errors.hpp"
#include "ssrl/output_file.hpp"
#include "ssrl/trainer.hpp"

namespace ssrl {

// The state after an epoch, serialised in memory so that a stop in the
// middle of the next epoch can still write it out.
Snapshot take_snapshot(Method& method, at::Generator& gen, int epoch, const RunConfig& cfg) {
  torch::serialize::OutputArchive archive;
  archive.write("epoch", torch::tensor(epoch, torch::kLong));
  archive.write("generator", gen.get_state());
  archive.write("config", c10::IValue(to_json(cfg).dump()));
  torch::serialize::OutputArchive m;
  method.save(m);
  archive.write("method", m);
  std::ostringstream out;
  archive.save_to(out);
  return {epoch, out.str()};
}

std::string write_snapshot(const Snapshot& s, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const std::string path = (fs::path(dir) / ("epoch-" + std::to_string(s.epoch) + ".pt")).string();
  write_output_file(path, s.bytes);  // a crash never leaves half a checkpoint under the final name
  return path;
}

int load_snapshot(const std::string& path, Method& method, at::Generator& gen, torch::Device device) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, device);  // a GPU run's checkpoint loads on any device
    torch::Tensor epoch, state;
    archive.read("epoch", epoch);
    archive.read("generator", state);
    torch::serialize::InputArchive m;
    archive.read("method", m);
    method.load(m);
    gen.set_state(state.cpu());  // load_from put it on the run's device; a generator takes its state from the host
    return static_cast<int>(epoch.item<std::int64_t>());
  } catch (const c10::Error& e) {
    throw DataError("checkpoint '" + path + "' cannot be loaded: " + e.what_without_backtrace());
  }
}

int checkpoint_epoch(const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, torch::kCPU);  // a GPU run's checkpoint, read on any machine
    torch::Tensor epoch;
    archive.read("epoch", epoch);
    return static_cast<int>(epoch.item<std::int64_t>());
  } catch (const c10::Error& e) {
    throw DataError("checkpoint '" + path + "' is unreadable: " + e.what_without_backtrace());
  }
}

}  // namespace ssrl
