#include "base/files.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.hpp"

namespace eg {

namespace fs = std::filesystem;

std::string errno_text(int err, const std::string& fallback) {
  return err == 0 ? fallback : std::string(std::strerror(err));
}

std::string read_file(const fs::path& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer before the type check refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error(path.string() + ": missing or unreadable (" + errno_text(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path.string() + ": not a regular file");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw Error(path.string() + ": read failed (" + errno_text(err) + ")");
    }
    if (n == 0) break;
    if (bytes.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      throw Error(path.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

namespace {

// Creates a new, exclusively opened temporary beside `path`; returns its name and descriptor.
std::pair<fs::path, int> create_temp_sibling(const fs::path& path) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string templ = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(templ.data());
  if (fd < 0)
    throw Error(path.string() + ": cannot create a temporary file beside it (" + errno_text(errno) +
                ")");
  ::fchmod(fd, 0644);
  return {fs::path(templ), fd};
}

void write_all_or_throw(int fd, const fs::path& tmp, const fs::path& path,
                        const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path.string() + ": write failed (" + errno_text(err, "no space written") + ")");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(path.string() + ": write failed (" + errno_text(err) + ")");
  }
}

}  // namespace

void write_file_atomic(const fs::path& path, const std::string& bytes) {
  write_files_atomic({{path, bytes}});
}

void write_files_atomic(const std::vector<std::pair<fs::path, std::string>>& files) {
  std::vector<fs::path> temps;
  const auto remove_temps = [&temps](std::size_t from) {
    for (std::size_t i = from; i < temps.size(); ++i) ::unlink(temps[i].c_str());
  };
  try {
    for (const auto& [path, bytes] : files) {
      auto [tmp, fd] = create_temp_sibling(path);
      temps.push_back(tmp);
      write_all_or_throw(fd, tmp, path, bytes);
    }
  } catch (...) {
    remove_temps(0);
    throw;
  }
  // Earlier versions are kept as hard links until every rename has succeeded, so a failure can
  // restore them.
  std::vector<fs::path> backups(files.size());
  std::size_t moved = 0;
  for (; moved < files.size(); ++moved) {
    const fs::path& path = files[moved].first;
    if (::access(path.c_str(), F_OK) == 0) {
      auto [backup, fd] = create_temp_sibling(path);
      ::close(fd);
      if (::rename(path.c_str(), backup.c_str()) != 0) {
        ::unlink(backup.c_str());
        break;
      }
      backups[moved] = backup;
    }
    if (::rename(temps[moved].c_str(), path.c_str()) != 0) {
      const int err = errno;
      if (!backups[moved].empty()) ::rename(backups[moved].c_str(), path.c_str());
      backups[moved].clear();
      errno = err;
      break;
    }
  }
  if (moved < files.size()) {
    const int err = errno;
    for (std::size_t i = 0; i < moved; ++i) {
      if (backups[i].empty())
        ::unlink(files[i].first.c_str());
      else
        ::rename(backups[i].c_str(), files[i].first.c_str());
    }
    remove_temps(moved);
    throw Error(files[moved].first.string() + ": cannot move into place (" + errno_text(err) + ")");
  }
  for (const fs::path& b : backups)
    if (!b.empty()) ::unlink(b.c_str());
}

fs::path make_unique_temp_dir(const fs::path& parent, const std::string& stem) {
  std::string templ = (parent / ("." + stem + ".XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr)
    throw Error(parent.string() + ": cannot create a temporary directory (" + errno_text(errno) +
                ")");
  return fs::path(templ);
}

void check_writable_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir.string() + ": not a directory");
  std::string templ = (dir / ".egsim-write-probe.XXXXXX").string();
  const int fd = ::mkstemp(templ.data());
  if (fd < 0) throw Error(dir.string() + ": not writable (" + errno_text(errno) + ")");
  ::close(fd);
  ::unlink(templ.c_str());
}

}  // namespace eg
