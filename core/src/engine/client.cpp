// The program's side of the engine (see ssrl/engine.hpp): finds and loads
// libssrl-engine.so on first use, checks that it was built from the same
// headers, and forwards the engine's functions to it. Torch-free: linking
// this instead of wb_core keeps LibTorch out of the program's start-up.
#include <dlfcn.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "ssrl/engine.hpp"

namespace ssrl {
namespace {

namespace fs = std::filesystem;

std::mutex g_mutex;
std::atomic<const EngineApi*> g_api{nullptr};
char** g_argv = nullptr;
bool g_openmp_early = false;  // libgomp was loaded before the policy was set

// Where the library may be: $SSRL_ENGINE, beside the program (the build
// tree), and the installed place relative to the program's folder.
std::vector<fs::path> candidates() {
  std::vector<fs::path> out;
  if (const char* env = std::getenv("SSRL_ENGINE"); env != nullptr && *env != '\0') {
    out.emplace_back(env);
    return out;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return out;
  const fs::path dir = exe.parent_path();
  out.push_back(dir / "libssrl-engine.so");
  out.push_back((dir / SSRL_ENGINE_INSTALL_REL / "libssrl-engine.so").lexically_normal());
  return out;
}

// Training frees and reallocates the same activation-sized blocks every
// step. glibc hands blocks over 128 KiB back to the kernel (mmap, heap
// trimming), so each step faulted their pages in again: ~1 M page faults an
// epoch of the Fashion-MNIST small CNN, 5-10 % of its time in the kernel,
// more with two processes. Freed memory now stays in the process.
void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

const EngineApi& load_locked() {
  keep_freed_memory();
  std::string tried;
  for (const fs::path& path : candidates()) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      tried += "\n  " + path.string() + ": no such file";
      continue;
    }
    // RTLD_LOCAL: the engine's copies of wb_config stay its own.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      tried += "\n  " + path.string() + ": " + (why != nullptr ? why : "cannot be loaded");
      continue;
    }
    using Entry = const EngineApi* (*)();
    auto entry = reinterpret_cast<Entry>(dlsym(handle, "ssrl_engine_api"));
    const EngineApi* api = entry != nullptr ? entry() : nullptr;
    if (api == nullptr) {
      tried += "\n  " + path.string() + ": not an SSRL Workbench engine";
      continue;
    }
    if (std::string(api->abi) != SSRL_ENGINE_ABI) {
      tried += "\n  " + path.string() + ": built from other sources (" + api->abi + ", this program " +
               SSRL_ENGINE_ABI + ")";
      continue;  // left loaded: unloading a library with LibTorch in it is not safe
    }
    g_api.store(api, std::memory_order_release);
    return *api;
  }
  throw EngineError("cannot load the training engine (LibTorch) that this command needs; tried:" + tried +
                    "\nReinstall ssrl-workbench, or set SSRL_ENGINE to the path of libssrl-engine.so.");
}

const EngineApi& api() {
  if (const EngineApi* a = g_api.load(std::memory_order_acquire)) return *a;
  const std::lock_guard<std::mutex> lock(g_mutex);
  if (const EngineApi* a = g_api.load(std::memory_order_acquire)) return *a;
  return load_locked();
}

}  // namespace

void load_engine() { api(); }
bool engine_loaded() { return g_api.load(std::memory_order_acquire) != nullptr; }

void prepare_process(int argc, char** argv) {
  (void)argc;
  // libgomp reads OMP_WAIT_POLICY once, in its constructor, when it is
  // loaded. Spinning idle OpenMP workers made small steps ~40x slower on 2
  // vCPUs and starve the GUI thread. When libgomp comes in with the engine
  // (dlopen, after this) setting the variable now is enough; when a library
  // linked into the program brought it in before main() (Qt's libb2 does),
  // the commands that train re-execute once (reexec_for_openmp).
  g_argv = argv;
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  g_openmp_early = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD) != nullptr;
}

void reexec_for_openmp() {
  if (!g_openmp_early || g_argv == nullptr || std::getenv("SSRL_NO_REEXEC") != nullptr) return;
  setenv("SSRL_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", g_argv);
  // If exec fails we carry on with whatever policy OpenMP picked.
}

// The forwarders: the program's definitions of the engine's functions.
RunOutcome train(const RunConfig& cfg, TrainObserver& observer, const TrainControl& control) {
  return api().train(cfg, observer, control);
}
RunOutcome train(const RunConfig& cfg, TrainObserver& observer, const StopFlag* stop) {
  TrainControl control;
  control.stop = stop;
  return api().train(cfg, observer, control);
}
RunOutcome random_init_probe(const RunConfig& cfg, TrainObserver& observer) {
  return api().random_init_probe(cfg, observer);
}
int checkpoint_epoch(const std::string& path) { return api().checkpoint_epoch(path); }
std::string resolve_device(const std::string& requested) { return api().resolve_device(requested); }
std::string rank_device(const std::string& requested, const std::string& resolved, int rank) {
  return api().rank_device(requested, resolved, rank);
}
bool cuda_available() { return api().cuda_available(); }
void set_torch_threads(int threads) { api().set_torch_threads(threads); }
std::string torch_version() { return api().torch_version(); }
std::vector<BenchRow> run_kernel_benchmarks(const BenchOptions& opt,
                                            const std::function<void(const BenchRow&)>& progress) {
  return api().run_kernel_benchmarks(opt, progress);
}
std::vector<TrainBenchRow> run_training_benchmarks(const TrainBenchOptions& opt,
                                                   const std::function<void(const TrainBenchRow&)>& progress) {
  return api().run_training_benchmarks(opt, progress);
}
std::vector<CalibrationRow> run_mi_calibration(const CalibrationOptions& options,
                                               const std::function<void(const std::string&)>& progress) {
  return api().run_mi_calibration(options, progress);
}
WeightsExport export_weights(const RunConfig& cfg, const std::string& checkpoint, const std::string& encoder,
                             const std::string& part, const std::string& out) {
  return api().export_weights(cfg, checkpoint, encoder, part, out);
}

}  // namespace ssrl
