#pragma once
// Output directories shared with the user: a tool overwrites or removes a file only if the
// directory's marker (".egsim-owned", JSON) records that this tool wrote it. A user's own files,
// and files of another tool, are never touched; a run that would have to overwrite one refuses up
// front, naming it.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace eg {

inline constexpr const char* kOwnerMarker = ".egsim-owned";

class OwnedDir {
 public:
  // Claims `dir` for `owner` (e.g. "egsim run"), before any work: creates the directory if absent
  // and checks that it is writable. Each name in `files` (relative paths, no "..") must be absent,
  // or recorded in the marker as written by `owner`; otherwise eg::Error "<dir>/<file>: exists and
  // was not written by <owner>; refusing to overwrite it (choose another --out)".
  static OwnedDir claim(const std::filesystem::path& dir, const std::string& owner,
                        const std::vector<std::string>& files);

  // Claims the whole of `dir` for `owner`: it must be absent, empty, or marked as wholly `owner`'s.
  // Everything inside may then be written and removed (a sweep's point folders, its plots).
  static OwnedDir claim_whole(const std::filesystem::path& dir, const std::string& owner);

  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path operator/(const std::string& name) const { return dir_ / name; }

  // Atomic writes of claimed files (or any file, for a wholly owned directory); each file is
  // recorded in the marker before it is renamed into place.
  void write(const std::string& name, const std::string& bytes);
  void write_all(const std::vector<std::pair<std::string, std::string>>& files);

  // Removes `name` if it exists and this owner wrote it (an output the current run no longer makes,
  // so it cannot be mistaken for one of this run's); anything else is left alone.
  void remove_own(const std::string& name);

  // True when `name` may be overwritten or removed by this owner.
  bool owns(const std::string& name) const;

 private:
  OwnedDir(std::filesystem::path dir, std::string owner, bool whole)
      : dir_(std::move(dir)), owner_(std::move(owner)), whole_(whole) {}
  void record(const std::vector<std::string>& names);

  std::filesystem::path dir_;
  std::string owner_;
  bool whole_ = false;
  std::map<std::string, std::string> files_;  // file -> owner, as in the marker
};

}  // namespace eg
