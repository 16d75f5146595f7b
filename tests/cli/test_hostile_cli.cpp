// Careless and hostile input, one test per class of issue 13: each fails
// with a message naming the problem and a non-zero exit, without a crash,
// a silent change of a setting, unbounded memory or a file outside the
// workbench touched.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "cli_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using wb_test::Cli;
using wb_test::Result;
using wb_test::slurp;

const std::vector<std::string> kTiny = {"--set", "points_per_cluster=40", "--batch-size", "50", "--epochs", "1"};

std::vector<std::string> tiny(std::vector<std::string> args) {
  args.insert(args.end(), kTiny.begin(), kTiny.end());
  return args;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Class 1: output paths are written through the one atomic writer.
TEST_F(Cli, OutputPathsFollowLinksRefuseSpecialFilesAndLeaveNothingBehind) {
  ASSERT_EQ(run(tiny({"-q", "run", "--method", "jmi"})).code, 0);
  const fs::path out = dir_ / "out";
  fs::create_directories(out);
  std::ofstream(out / "t.csv") << "keep\n";
  fs::create_symlink("t.csv", out / "link.csv");
  ASSERT_EQ(::mkfifo((out / "fifo").c_str(), 0600), 0);
  fs::create_directories(out / "dir");

  Result r = run({"export", "table", "--format", "csv", "--out", (out / "link.csv").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(out / "link.csv"));
  EXPECT_TRUE(has(slurp(out / "t.csv"), "jmi,JMI"));
  for (const char* bad : {"fifo", "dir"}) {
    r = run({"export", "table", "--format", "csv", "--out", (out / bad).string()});
    EXPECT_NE(r.code, 0) << bad;
    EXPECT_TRUE(has(r.err, "not a regular file")) << r.err;
  }
  r = run({"sweep", "report", "nope", "--out", (out / "fifo").string()});
  EXPECT_NE(r.code, 0);
  struct stat st {};
  ASSERT_EQ(::lstat((out / "fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_TRUE(fs::is_directory(out / "dir"));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(out)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"dir", "fifo", "link.csv", "t.csv"}));

  // A sweep folder that is a file is refused before anything is written.
  std::ofstream(dir_ / "sweep.json") << R"({"name": "s", "methods": ["jmi"], "base": {"epochs": 1}})";
  r = run({"sweep", "slurm", (dir_ / "sweep.json").string(), "--out", (out / "t.csv").string()});
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(has(r.err, "not a folder")) << r.err;
  r = run({"sweep", "slurm", (dir_ / "sweep.json").string(), "--out", (out / "slurm").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out / "slurm" / "sweep.sbatch"));
  EXPECT_EQ(::access((out / "slurm" / "merge.sh").c_str(), X_OK), 0);
}


// Class 2: JSON nested 100 000 levels deep, in a config file and a sweep file:
// a short message, no stack overflow.
TEST_F(Cli, DeeplyNestedJsonIsRefusedWithAShortMessage) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::ofstream(dir_ / "deep.json") << R"({"method": "jmi", "epochs": )" << deep << "}";
  std::ofstream(dir_ / "sweep.json") << R"({"name": "s", "methods": ["jmi"], "axes": {"lr": )" << deep << "}}";
  for (const auto& args : std::vector<std::vector<std::string>>{{"run", "--config", (dir_ / "deep.json").string()},
                                                                 {"sweep", "plan", (dir_ / "sweep.json").string()}}) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_TRUE(has(r.err, "nested more than 64 levels")) << r.err.substr(0, 300);
    EXPECT_LT(r.err.size(), 600u);
  }
  // Deep but within the bound: the setting's message stays short too.
  std::ofstream(dir_ / "deepish.json") << R"({"method": "jmi", "epochs": )" << std::string(60, '[') << std::string(60, ']') << "}";
  const Result r = run({"run", "--config", (dir_ / "deepish.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "epochs: expects an integer (got a list)")) << r.err;
  EXPECT_EQ(run_count(), 0u);
}

// Class 3: integers are range-checked in 64 bits from every source, numbers
// too big for their setting are refused by validation, before a run exists.
TEST_F(Cli, NumbersOutOfRangeAreRefusedFromEverySource) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  std::ofstream(dir_ / "big.json") << R"({"method": "jmi", "batch_size": 4294967796})";
  std::ofstream(dir_ / "lr.json") << R"({"method": "jmi", "lr": 1e400})";
  std::ofstream(dir_ / "sweep.json") << R"({"name": "s", "methods": ["jmi"], "axes": {"epochs": [1, 4294967301]}})";
  std::ofstream(dir_ / "range.json")
      << R"({"name": "r", "methods": ["jmi"], "axes": {"epochs": {"int_uniform": [1, 1e30]}}, "sample": {"count": 2}})";
  const std::vector<Case> cases = {
      {{"run", "--method", "jmi", "--epochs", "4294967301"}, "epochs: must be an integer in [1, 1000000] (got 4294967301)"},
      {{"run", "--method", "jmi", "--epochs", "1000000000000"}, "(got 1000000000000)"},
      {{"run", "--method", "jmi", "--set", "epochs=99999999999999999999"}, "epochs: must be an integer"},
      {{"run", "--method", "jmi", "--batch-size", "4294967796"}, "batch_size: must be an integer"},
      {{"run", "--config", (dir_ / "big.json").string()}, "batch_size: must be an integer"},
      {{"run", "--method", "jmi", "--lr", "1e308"}, "lr: must be a number"},
      {{"run", "--method", "jmi", "--set", "lr=1e400"}, "lr: must be a finite number"},
      {{"run", "--config", (dir_ / "lr.json").string()}, "lr: number out of range"},
      {{"sweep", "plan", (dir_ / "sweep.json").string()}, "epochs: must be an integer in [1, 1000000] (got 4294967301)"},
      {{"sweep", "plan", (dir_ / "sweep.json").string(), "--set", "epochs=4294967301"}, "epochs: must be an integer"},
      {{"sweep", "plan", (dir_ / "range.json").string()}, "int_uniform expects integer bounds"},
  };
  for (const auto& c : cases) {
    const Result r = run(c.args);
    EXPECT_EQ(r.code, 2) << c.args.back() << "\n" << r.err;
    EXPECT_TRUE(has(r.err, c.expect)) << c.args.back() << "\n" << r.err;
  }
  EXPECT_EQ(run_count(), 0u);
}

// Class 4: a sweep is counted before it is expanded; a big one is refused
// with its count, sampling never builds the grid.
TEST_F(Cli, SweepsAreCountedBeforeTheyAreExpanded) {
  std::string axis = "[";
  for (int i = 1; i <= 1000; ++i) axis += (i > 1 ? "," : "") + std::to_string(i);
  axis += "]";
  std::ofstream(dir_ / "huge.json") << R"({"name": "h", "methods": ["jmi"], "axes": {"epochs": )" << axis
                                    << R"(, "hidden_dim": )" << axis << R"(, "mi_block": )" << axis << "}}";
  Result r = run({"sweep", "plan", (dir_ / "huge.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "the sweep makes 1000000000 runs")) << r.err;
  EXPECT_TRUE(has(r.err, "limit of 10000")) << r.err;
  // Sampling a billion-point grid draws its points without building it.
  std::ofstream(dir_ / "sample.json") << R"({"name": "h", "methods": ["jmi"], "axes": {"epochs": )" << axis
                                      << R"(, "hidden_dim": )" << axis << R"(, "mi_block": )" << axis
                                      << R"(}, "sample": {"count": 5, "seed": 1}})";
  r = run({"sweep", "plan", (dir_ / "sample.json").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "5 runs")) << r.out;
  std::ofstream(dir_ / "count.json") << R"({"name": "c", "methods": ["jmi"], "sample": {"count": 1000000000}})";
  r = run({"sweep", "plan", (dir_ / "count.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "\"sample\".count 1000000000 is more runs than the limit of 10000")) << r.err;
  std::ofstream(dir_ / "seeds.json") << R"({"name": "c", "methods": ["jmi"], "seeds": {"count": 1000000000000}})";
  r = run({"sweep", "plan", (dir_ / "seeds.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "1000000000000 seeds")) << r.err;
  // A sample larger than its grid says so, and runs the grid.
  std::ofstream(dir_ / "small.json") << R"({"name": "g", "methods": ["jmi"], "axes": {"lr": [0.1, 0.2]}, "sample": {"count": 9}})";
  r = run({"sweep", "plan", (dir_ / "small.json").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "the grid has only 2 points")) << r.err;
  EXPECT_TRUE(has(r.out, "2 runs")) << r.out;
  // The limit is a setting: the file's max_runs, or --max-runs.
  std::ofstream(dir_ / "grid.json") << R"({"name": "g", "methods": ["jmi"], "axes": {"lr": [0.1, 0.2]}})";
  r = run({"sweep", "plan", (dir_ / "grid.json").string(), "--max-runs", "1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "the sweep makes 2 runs")) << r.err;
}

// Class 8: a lost terminal stops a run as Ctrl-C does; a closed stdout stops
// the printing, not the training.
TEST_F(Cli, HangupStopsLikeCtrlCAndABrokenPipeDoesNotStopTheRun) {
  const pid_t p2 = start({"run", "--method", "jmi", "--epochs", "100000", "--set", "points_per_cluster=40", "--batch-size", "50"});
  const auto [at_signal, status] = interrupt_when(
      p2, [](const Runs& rows) { return rows.size() == 1 && rows[0].epochs_done >= 2; }, 30000, SIGHUP);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 130);
  auto rows = runs_now();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "interrupted");

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t p3 = fork();
  if (p3 == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(WB_CLI, WB_CLI, "--db", db_.c_str(), "run", "--method", "jmi", "--epochs", "30", "--set", "points_per_cluster=40",
          "--batch-size", "50", "--name", "piped", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[0]);  // nobody reads: the first write to stdout meets a broken pipe
  close(fds[1]);
  int st = 0;
  waitpid(p3, &st, 0);
  ASSERT_TRUE(WIFEXITED(st)) << "killed by signal " << (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  rows = runs_now();
  const auto piped = std::find_if(rows.begin(), rows.end(), [](const auto& r) { return r.name == "piped"; });
  ASSERT_NE(piped, rows.end());
  EXPECT_EQ(piped->status, "finished");
  EXPECT_EQ(piped->epochs_done, 30);
}


// Class 9: every error names the file that is wrong and what is wrong with it.
TEST_F(Cli, MessagesNameTheFileThatIsWrong) {
  const std::string missing = (dir_ / "missing.db").string();
  for (const char* cmd : {"runs", "show"}) {
    std::vector<std::string> args = {cmd};
    if (std::string(cmd) == "show") args.push_back("1");
    const Result r = run(args, missing);
    EXPECT_EQ(r.code, 1) << cmd << r.out;
    EXPECT_TRUE(has(r.err, "database '" + missing + "': no such file")) << cmd << r.err;
  }
  EXPECT_FALSE(fs::exists(missing));
  const std::string empty = (dir_ / "empty.db").string();
  std::ofstream(empty).close();
  Result r = run({"runs"}, empty);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r.err, "database '" + empty + "': is empty (0 bytes")) << r.err;
  EXPECT_FALSE(has(r.err, "no such table")) << r.err;
  r = run({"run", "--config", dir_.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "config file '" + dir_.string() + "' is a folder")) << r.err;
  // A damaged shard is named as the damaged one, and the target is left as it was.
  const std::string shard = (dir_ / "shard.db").string();
  ASSERT_EQ(run({"-q", "run", "--method", "jmi", "--epochs", "3", "--set", "points_per_cluster=40", "--batch-size", "50"}, shard).code, 0);
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(shard) / 2));
    const std::string junk(8192, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  ASSERT_EQ(run(tiny({"-q", "run", "--method", "jmi"})).code, 0);
  r = run({"merge", shard, "--into", db_});
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(has(r.err, "database '" + shard + "'")) << r.err;
  EXPECT_FALSE(has(r.err, "database '" + db_ + "'")) << r.err;
  EXPECT_EQ(run_count(), 1u);
}

// Class 10: free text is capped, and printed with its control characters escaped.
TEST_F(Cli, FreeTextIsCappedAndEscapedWhenPrinted) {
  // 100 000 bytes on the command line (one argument may hold 128 KiB), 900 000 in a config file.
  Result r = run(tiny({"run", "--method", "jmi", "--name", std::string(100000, 'n')}));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "name: is 100000 bytes long; the limit is 200")) << r.err.substr(0, 300);
  EXPECT_LT(r.err.size(), 1000u);
  std::ofstream(dir_ / "name.json") << R"({"method": "jmi", "name": ")" << std::string(900000, 'n') << "\"}";
  r = run({"run", "--config", (dir_ / "name.json").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "name: is 900000 bytes long; the limit is 200")) << r.err.substr(0, 300);
  EXPECT_LT(r.err.size(), 1000u);
  r = run(tiny({"run", "--method", "jmi", "--tag", std::string(300, 't')}));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "tag: is 300 bytes long; the limit is 200")) << r.err;
  // Bytes that are not UTF-8 (found by fuzz_config): a message, not a JSON library exception.
  r = run(tiny({"run", "--method", "jmi", "--name", "bad\xdd\xff"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "name: is not valid UTF-8 text")) << r.err;
  r = run(tiny({"run", "--method", "jmi", "--set", "flip_p=\xdd%"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "flip_p: expects a number")) << r.err;
  r = run(tiny({"run", "--method", "jmi", "--tag", "t\xff"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "tag: is not valid UTF-8 text")) << r.err;
  EXPECT_EQ(run_count(), 0u);
  ASSERT_EQ(run(tiny({"-q", "run", "--method", "jmi", "--name", "evil\x1b]2;pwned\x07\x1b[31m", "--tag", "t\x1b[2J"})).code, 0);
  for (const auto& args : std::vector<std::vector<std::string>>{{"runs"}, {"show", "1"}}) {
    r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_FALSE(has(r.out, "\x1b")) << args[0];
    EXPECT_TRUE(has(r.out, "evil\\x1B]2;pwned\\x07")) << r.out;
  }
}


#ifdef WB_WITH_GUI
// Class 11: the window without a display, or with one that cannot be opened, says so and how to go on, exit 1.
TEST_F(Cli, TheWindowWithoutADisplaySaysSo) {
  struct Saved {
    std::string name;
    std::optional<std::string> value;
  };
  std::vector<Saved> saved;
  for (const char* v : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}) {
    const char* old = std::getenv(v);
    saved.push_back({v, old ? std::optional<std::string>(old) : std::nullopt});
    unsetenv(v);
  }
  const Result r = run({});
  setenv("DISPLAY", ":9999", 1);  // set, but nothing listens there
  const Result unreachable = run({});
  for (const auto& s : saved) {
    if (s.value) setenv(s.name.c_str(), s.value->c_str(), 1);
    else unsetenv(s.name.c_str());
  }
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(has(r.err, "needs a display")) << r.err;
  EXPECT_TRUE(has(r.err, "xvfb-run -a ssrl-workbench")) << r.err;
  EXPECT_FALSE(has(r.err, "Reinstalling")) << r.err;
  EXPECT_EQ(unreachable.code, 1) << unreachable.err;
  EXPECT_TRUE(has(unreachable.err, "cannot open the X display ':9999'")) << unreachable.err;
  EXPECT_FALSE(has(unreachable.err, "Reinstalling")) << unreachable.err;
}
#endif

}  // namespace
