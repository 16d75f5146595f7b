#include "ssrl/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ssrl/errors.hpp"

namespace ssrl {
namespace fs = std::filesystem;

namespace {

std::string quoted(const std::string& p) { return "'" + p + "'"; }

const char* kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a folder";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

// The process's umask without changing it (umask(2) would race with other threads).
mode_t current_umask() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
  return 022;
}

}  // namespace

std::string check_output_file(const std::string& path) {
  if (path.empty()) throw Error("output file: the path is empty");
  fs::path p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno != ENOENT) throw Error("cannot write " + quoted(path) + ": " + std::strerror(errno));
      const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
      struct stat ds {};
      if (::stat(dir.c_str(), &ds) != 0 || !S_ISDIR(ds.st_mode))
        throw Error("cannot write " + quoted(path) + ": folder " + quoted(dir.string()) + " does not exist");
      return p.string();
    }
    if (S_ISLNK(st.st_mode)) {  // followed on purpose: the link's target is what the user means
      std::error_code ec;
      const fs::path to = fs::read_symlink(p, ec);
      if (ec) throw Error("cannot write " + quoted(path) + ": " + ec.message());
      p = to.is_absolute() ? to : (p.has_parent_path() ? p.parent_path() : fs::path(".")) / to;
      continue;
    }
    if (S_ISREG(st.st_mode)) return p.string();
    throw Error("cannot write " + quoted(path) + ": it is " + kind_of(st.st_mode) +
                (p.string() == path ? "" : " (" + p.string() + ")") + ", not a regular file; name a file instead");
  }
  throw Error("cannot write " + quoted(path) + ": too many levels of symbolic links");
}

void prepare_output_dir(const std::string& dir) {
  if (dir.empty()) throw Error("output folder: the path is empty");
  std::error_code ec;
  const auto st = fs::status(dir, ec);  // follows links
  if (st.type() == fs::file_type::directory) return;
  if (st.type() != fs::file_type::not_found && st.type() != fs::file_type::none)
    throw Error("cannot write into " + quoted(dir) + ": it exists and is not a folder");
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create folder " + quoted(dir) + ": " + ec.message());
}

void write_output_file(const std::string& path, std::string_view bytes, bool executable) {
  const fs::path target = check_output_file(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  mode_t mode = 0666 & ~current_umask();
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) mode = st.st_mode & 07777;
  if (executable) mode |= (mode & 0444) >> 2;
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw Error("cannot write " + quoted(path) + ": " + std::strerror(errno));
  auto fail = [&](int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error("cannot write " + quoted(path) + ": " + std::strerror(err));
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) fail(errno);
  if (::fsync(fd) != 0) fail(errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot write " + quoted(path) + ": " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot write " + quoted(path) + ": " + std::strerror(err));
  }
}

}  // namespace ssrl
