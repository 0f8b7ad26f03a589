#pragma once
// A fresh directory under the system temp dir, removed when the object goes out of scope.
#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <random>
#include <string>

namespace eg::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& tag = "egtest") {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace eg::testing
