#pragma once
// One error type for every user-facing failure: its message is a single line that names the file,
// the field and the problem, so a command-line tool can print it and exit non-zero.
#include <stdexcept>
#include <string>

namespace eg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace eg
