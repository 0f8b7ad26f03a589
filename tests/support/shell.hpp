// For tests that run the project's programs as processes: a command with its output kept in a
// log file, and a whole file read back as text.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace eg::testing {

// The whole file as text ("" when it cannot be read: the caller's check then fails on it).
inline std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `cmd` through the shell with stdout and stderr in `log`; returns std::system's status
// (0 when the command exited 0).
inline int run_logged(const std::string& cmd, const std::filesystem::path& log) {
  return std::system((cmd + " >" + log.string() + " 2>&1").c_str());
}

}  // namespace eg::testing
