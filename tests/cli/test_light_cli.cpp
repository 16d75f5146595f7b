// Commands that only read the database or print what the program knows
// never load LibTorch (ssrl/engine.hpp): the dynamic loader's own trace
// (LD_DEBUG=files) lists every library a process loads. A command that
// trains must load it, which shows the check can see it, and its OpenMP must
// run with the passive wait policy. The light commands run without the
// re-exec that a training command needs when OpenMP came in before main().
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "cli_fixture.hpp"

namespace {

using wb_test::Cli;
using wb_test::Result;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Sets environment variables for the processes a test starts; restores them.
class ScopedEnv {
 public:
  void set(const std::string& name, const char* value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
    if (value != nullptr) setenv(name.c_str(), value, 1);
    else unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) setenv(it->first.c_str(), it->second->c_str(), 1);
      else unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

class LightCli : public Cli {
 protected:
  // `args` under the loader's trace (which goes to stderr).
  Result traced(const std::vector<std::string>& args) {
    ScopedEnv env;
    env.set("LD_DEBUG", "files");
    env.set("OMP_WAIT_POLICY", nullptr);
    env.set("SSRL_NO_REEXEC", nullptr);
    env.set("OMP_DISPLAY_ENV", "true");
    return run(args);
  }
};

TEST_F(LightCli, CommandsThatOnlyReadOrPrintNeverLoadLibTorchAndRunOnce) {
  // A stored run to show: made by a command that trains, untraced.
  ASSERT_EQ(run({"-q", "run", "--method", "jmi", "--epochs", "1", "--set", "points_per_cluster=40", "--batch-size", "50"}).code, 0);
  const std::vector<std::vector<std::string>> light = {
      {"--version"}, {"--help"},         {"runs"},    {"show", "1"},         {"presets"},
      {"methods"},   {"settings"},       {"datasets"}, {"sweep", "status"}, {"sweep", "plan", "gaussian/demo"},
      {"export", "table", "--runs", "1"}};
  for (const auto& args : light) {
    const Result r = traced(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_EQ(r.code, 0) << line << r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0);
    ASSERT_GT(count(r.err, "file=libc.so.6 [0];  generating link map"), 0u) << line << ": the loader's trace is missing";
    EXPECT_EQ(count(r.err, "libtorch"), 0u) << line << "loads LibTorch";
    EXPECT_EQ(count(r.err, "libssrl-engine"), 0u) << line << "loads the engine";
    EXPECT_EQ(count(r.err, "file=libc.so.6 [0];  generating link map"), 1u) << line << "re-executes itself";
  }
}

TEST_F(LightCli, ATrainingRunLoadsLibTorchWithThePassiveWaitPolicy) {
  const Result r =
      traced({"-q", "run", "--method", "jmi", "--epochs", "1", "--set", "points_per_cluster=40", "--batch-size", "50"});
  ASSERT_EQ(r.code, 0) << r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0);
  EXPECT_GT(count(r.err, "libssrl-engine.so"), 0u);
  EXPECT_GT(count(r.err, "file=libtorch_cpu.so"), 0u);
  // libgomp prints its settings when it is loaded (OMP_DISPLAY_ENV).
  EXPECT_NE(r.err.find("OMP_WAIT_POLICY = 'PASSIVE'"), std::string::npos) << "OpenMP did not read the passive policy";
}

TEST_F(LightCli, AMissingEngineIsAClearErrorAndTheLightCommandsStillWork) {
  ScopedEnv env;
  env.set("SSRL_ENGINE", "/nonexistent/libssrl-engine.so");
  Result r = run({"run", "--method", "jmi", "--epochs", "1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot load the training engine (LibTorch)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/libssrl-engine.so: no such file"), std::string::npos) << r.err;
  EXPECT_EQ(run_count(), 0u);
  r = run({"methods"});
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
