#pragma once
// Child processes without a shell: posix_spawn with argv as given, stdin from /dev/null and
// stdout+stderr appended to a log file.
#include <sys/types.h>
#include <filesystem>
#include <string>
#include <vector>

namespace eg::sweep {

// Starts argv[0] (a path, not searched in PATH). Throws eg::Error naming the program if it cannot
// be started.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::filesystem::path& log);

// How a child ended: exit code, or 128 + signal number for a killed child (as shells report it).
struct ExitStatus {
  int code = 0;
  bool signaled = false;
  bool ok() const { return code == 0 && !signaled; }
  std::string describe() const;
};
ExitStatus decode_wait_status(int status);

// Waits for that child.
ExitStatus wait_child(pid_t pid);
// spawn_logged + wait_child.
ExitStatus run_logged(const std::vector<std::string>& argv, const std::filesystem::path& log);

// An exclusive advisory lock (flock) on a file, held for the object's lifetime and released by the
// kernel when the process dies, so a killed sweep never leaves a stale lock. Serialises separate
// processes (local jobs or cluster tasks) that need the same trace, and keeps two sweeps off one
// output folder.
class FileLock {
 public:
  // Blocks until the lock is free.
  explicit FileLock(const std::filesystem::path& file);
  // Does not wait: throws eg::Error(`held_message`) when another process holds the lock.
  FileLock(const std::filesystem::path& file, const std::string& held_message);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace eg::sweep
