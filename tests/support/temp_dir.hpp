#pragma once
// A scratch folder per test, shared by every suite: a fresh, empty folder
// under the system's temporary folder, named after the running test and
// this process (CTest may run tests of one binary side by side), removed
// with everything in it at the end.
//
//   wb_test::TempDir tmp;              // RAII, anywhere
//   class MyTest : public wb_test::TempDirTest {};   // dir_ in every TEST_F
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

namespace wb_test {

class TempDir {
 public:
  // `tag` tells two folders of one test apart.
  explicit TempDir(const std::string& tag = "") {
    std::string name = "ssrl-test-" + std::to_string(getpid());
    if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info(); info != nullptr)
      name += std::string("-") + info->test_suite_name() + "-" + info->name();
    if (!tag.empty()) name += "-" + tag;
    for (char& c : name)  // parameterised tests are called Suite/Name/0
      if (c == '/') c = '_';
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;  // never throw from a destructor; a leftover folder is harmless
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // A file or folder inside, as a string (database paths, CLI arguments).
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A gtest fixture with a fresh folder `dir_` for each test.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_.emplace();
    dir_ = tmp_->path();
  }
  void TearDown() override { tmp_.reset(); }

  // A file or folder inside dir_, as a string.
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;

 private:
  std::optional<TempDir> tmp_;
};

}  // namespace wb_test
