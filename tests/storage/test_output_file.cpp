// The one writer of user-named files: atomic, follows links, refuses special files.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <csignal>
#include <sstream>

#include "ssrl/errors.hpp"
#include "ssrl/output_file.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using ssrl::write_output_file;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class OutputFile : public wb_test::TempDirTest {
 protected:
  // Everything in the folder, so a test sees a temporary file left behind.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string error_of(const std::string& p) {
    try {
      write_output_file(p, "new\n");
    } catch (const ssrl::Error& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(OutputFile, WritesANewFileAndReplacesAnOldOneKeepingItsMode) {
  write_output_file(path("t.csv"), "one\n");
  EXPECT_EQ(read(path("t.csv")), "one\n");
  ASSERT_EQ(::chmod(path("t.csv").c_str(), 0640), 0);
  write_output_file(path("t.csv"), "two\n");
  EXPECT_EQ(read(path("t.csv")), "two\n");
  struct stat st {};
  ASSERT_EQ(::stat(path("t.csv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(listing(), std::vector<std::string>{"t.csv"});
}

TEST_F(OutputFile, ScriptsBecomeExecutable) {
  write_output_file(path("run.sh"), "#!/bin/sh\n", true);
  struct stat st {};
  ASSERT_EQ(::stat(path("run.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
}

TEST_F(OutputFile, ASymbolicLinkIsFollowedAndStaysALink) {
  write_output_file(path("t.csv"), "keep\n");
  fs::create_symlink("t.csv", dir_ / "link.csv");
  write_output_file(path("link.csv"), "through\n");
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.csv"));
  EXPECT_EQ(read(path("t.csv")), "through\n");
  // A dangling link names the file to create.
  fs::create_directories(dir_ / "sub");
  fs::create_symlink("sub/new.csv", dir_ / "dangling.csv");
  write_output_file(path("dangling.csv"), "made\n");
  EXPECT_TRUE(fs::is_symlink(dir_ / "dangling.csv"));
  EXPECT_EQ(read(dir_ / "sub" / "new.csv"), "made\n");
  // A loop of links is refused, not followed for ever.
  fs::create_symlink("loop-b", dir_ / "loop-a");
  fs::create_symlink("loop-a", dir_ / "loop-b");
  EXPECT_NE(error_of(path("loop-a")).find("symbolic links"), std::string::npos);
}

TEST_F(OutputFile, SpecialFilesAndFoldersAreRefusedAndLeftAlone) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  EXPECT_NE(error_of(path("fifo")).find("a FIFO"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::lstat(path("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  fs::create_directories(dir_ / "folder");
  EXPECT_NE(error_of(path("folder")).find("a folder"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(dir_ / "folder"));
  EXPECT_NE(error_of("/dev/null").find("character device"), std::string::npos);
  fs::create_symlink(dir_ / "fifo", dir_ / "to-fifo");  // through a link, too
  EXPECT_NE(error_of(path("to-fifo")).find("a FIFO"), std::string::npos);
  EXPECT_NE(error_of(path("missing/t.csv")).find("does not exist"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  // Nothing half-written is left beside them.
  EXPECT_EQ(listing(), (std::vector<std::string>{"fifo", "folder", "to-fifo"}));
}

TEST_F(OutputFile, AFailedWriteLeavesNoTemporaryFileAndTheOldFileWhole) {
  write_output_file(path("t.csv"), "old\n");
  // A write that fails half way: a file-size limit (root is bound by it too),
  // in a child process so the limit stays there.
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_output_file(path("t.csv"), std::string(1 << 20, 'x'));
    } catch (const ssrl::Error& e) {
      _exit(std::string(e.what()).find("too large") != std::string::npos ? 0 : 2);
    }
    _exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no error, 2: another message";
  EXPECT_EQ(read(path("t.csv")), "old\n");
  EXPECT_EQ(listing(), std::vector<std::string>{"t.csv"});
}

TEST_F(OutputFile, OutputFoldersAreCreatedOrMustBeFolders) {
  ssrl::prepare_output_dir(path("a/b"));
  EXPECT_TRUE(fs::is_directory(dir_ / "a" / "b"));
  write_output_file(path("file"), "x");
  EXPECT_THROW(ssrl::prepare_output_dir(path("file")), ssrl::Error);
  fs::create_symlink("a", dir_ / "to-a");
  EXPECT_NO_THROW(ssrl::prepare_output_dir(path("to-a")));  // a link to a folder is that folder
}

}  // namespace
