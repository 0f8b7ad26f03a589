#include "tools/sweep/subprocess.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "base/error.hpp"

extern char** environ;

namespace eg::sweep {

namespace fs = std::filesystem;

std::string ExitStatus::describe() const {
  if (signaled) return "killed by signal " + std::to_string(code - 128);
  return "exit code " + std::to_string(code);
}

ExitStatus decode_wait_status(int status) {
  ExitStatus result;
  if (WIFEXITED(status)) {
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.code = 128 + WTERMSIG(status);
    result.signaled = true;
  } else {
    result.code = 1;
  }
  return result;
}

pid_t spawn_logged(const std::vector<std::string>& argv, const fs::path& log) {
  if (argv.empty()) throw Error("spawn: empty command");
  if (log.has_parent_path()) fs::create_directories(log.parent_path());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw Error(argv[0] + ": cannot start: " + std::strerror(rc));
  return pid;
}

ExitStatus wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error("waitpid: " + std::string(std::strerror(errno)));
  }
  return decode_wait_status(status);
}

ExitStatus run_logged(const std::vector<std::string>& argv, const fs::path& log) {
  return wait_child(spawn_logged(argv, log));
}

namespace {

int open_lock_file(const fs::path& file) {
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(file.string() + ": cannot open lock file: " + std::strerror(errno));
  return fd;
}

}  // namespace

FileLock::FileLock(const fs::path& file) : fd_(open_lock_file(file)) {
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const int err = errno;
      ::close(fd_);
      throw Error(file.string() + ": cannot lock: " + std::strerror(err));
    }
  }
}

FileLock::FileLock(const fs::path& file, const std::string& held_message)
    : fd_(open_lock_file(file)) {
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    ::close(fd_);
    if (err == EWOULDBLOCK) throw Error(held_message);
    throw Error(file.string() + ": cannot lock: " + std::strerror(err));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

}  // namespace eg::sweep
