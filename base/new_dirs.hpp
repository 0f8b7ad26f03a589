#pragma once
// Directories a run creates for its outputs, removed again if the run fails: a failed command
// leaves no empty output folder behind, and only folders this object created (and that are still
// empty) are ever removed, so nothing the user made is touched.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace eg {

class NewDirs {
 public:
  NewDirs() = default;
  // Creates `dir` and its missing parents; throws eg::Error "<dir>: cannot create directory (...)"
  // or "<path>: exists and is not a directory".
  explicit NewDirs(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::vector<fs::path> missing;
    fs::path p = dir.lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    std::error_code ec;
    for (; !p.empty(); p = p.parent_path()) {
      const fs::file_status st = fs::status(p, ec);
      if (st.type() == fs::file_type::not_found) {
        missing.push_back(p);
      } else {
        if (st.type() != fs::file_type::directory)
          throw Error(p.string() + ": exists and is not a directory");
        break;
      }
      if (p == p.parent_path()) break;
    }
    try {
      for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (fs::create_directory(*it, ec)) {
          created_.push_back(*it);
        } else if (ec || !fs::is_directory(*it)) {
          throw Error(it->string() + ": cannot create directory (" +
                      (ec ? ec.message() : std::string("exists and is not a directory")) + ")");
        }
      }
    } catch (...) {
      remove_created();
      throw;
    }
  }
  NewDirs(NewDirs&& other) noexcept : created_(std::exchange(other.created_, {})) {}
  NewDirs& operator=(NewDirs&& other) noexcept {
    if (this != &other) {
      remove_created();
      created_ = std::exchange(other.created_, {});
    }
    return *this;
  }
  NewDirs(const NewDirs&) = delete;
  NewDirs& operator=(const NewDirs&) = delete;
  ~NewDirs() { remove_created(); }

  // The run succeeded: the directories stay.
  void keep() { created_.clear(); }

 private:
  // Deepest first; rmdir fails on a directory that is no longer empty, which is what we want.
  void remove_created() noexcept {
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) ::rmdir(it->c_str());
    created_.clear();
  }

  std::vector<std::filesystem::path> created_;
};

}  // namespace eg
