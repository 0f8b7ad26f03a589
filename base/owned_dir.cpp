#include "base/owned_dir.hpp"

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"

namespace eg {

namespace fs = std::filesystem;

namespace {

constexpr const char* kWholeKey = "*";  // marker entry of a wholly owned directory

void check_relative_name(const fs::path& dir, const std::string& name) {
  const fs::path p(name);
  if (name.empty() || p.is_absolute())
    throw Error(dir.string() + ": output name '" + name + "' must be a relative path");
  for (const auto& part : p)
    if (part == "..") throw Error(dir.string() + ": output name '" + name + "' leaves the folder");
}

std::map<std::string, std::string> read_marker(const fs::path& dir) {
  const fs::path marker = dir / kOwnerMarker;
  std::error_code ec;
  if (!fs::exists(marker, ec)) return {};
  const nlohmann::json j = load_json_file(marker, 1 << 20);
  if (!j.is_object() || !j.contains("files") || !j["files"].is_object())
    throw Error(marker.string() + ": /files: must be an object (file -> owner)");
  std::map<std::string, std::string> files;
  for (auto it = j["files"].begin(); it != j["files"].end(); ++it) {
    if (!it.value().is_string())
      throw Error(marker.string() + ": /files/" + it.key() + ": must be a string");
    files[it.key()] = it.value().get<std::string>();
  }
  return files;
}

void create_directory_for(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw Error(dir.string() + ": exists and is not a directory");
    return;
  }
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot create directory (" + ec.message() + ")");
}

}  // namespace

OwnedDir OwnedDir::claim(const fs::path& dir, const std::string& owner,
                         const std::vector<std::string>& files) {
  create_directory_for(dir);
  check_writable_directory(dir);
  OwnedDir out(dir, owner, false);
  out.files_ = read_marker(dir);
  if (out.files_.count(kWholeKey) && out.files_[kWholeKey] == owner) out.whole_ = true;
  for (const std::string& name : files) {
    check_relative_name(dir, name);
    std::error_code ec;
    if (fs::symlink_status(dir / name, ec).type() != fs::file_type::not_found && !out.owns(name))
      throw Error((dir / name).string() + ": exists and was not written by " + owner +
                  "; refusing to overwrite it (choose another output folder)");
  }
  return out;
}

OwnedDir OwnedDir::claim_whole(const fs::path& dir, const std::string& owner) {
  create_directory_for(dir);
  check_writable_directory(dir);
  OwnedDir out(dir, owner, true);
  out.files_ = read_marker(dir);
  const auto it = out.files_.find(kWholeKey);
  if (it != out.files_.end()) {
    if (it->second != owner)
      throw Error(dir.string() + ": belongs to " + it->second + ", not " + owner +
                  "; choose another output folder");
    return out;
  }
  // What a claim killed part-way leaves (the marker's temporary, the writability probe) is the only
  // thing a folder may hold and still count as empty: nothing else creates those names.
  const auto ours_left_over = [](const std::string& name) {
    return name.rfind("." + std::string(kOwnerMarker) + ".tmp-", 0) == 0 ||
           name.rfind(".egsim-write-probe.", 0) == 0;
  };
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (ours_left_over(name) && entry.is_regular_file()) {
      stale.push_back(entry.path());
      continue;
    }
    throw Error(dir.string() + ": not empty and not an output folder of " + owner + " (found '" +
                name + "'); choose a new or empty folder");
  }
  for (const fs::path& p : stale) fs::remove(p);
  out.record({kWholeKey});
  return out;
}

void OwnedDir::remove_own(const std::string& name) {
  check_relative_name(dir_, name);
  std::error_code ec;
  if (owns(name) && fs::is_regular_file(fs::symlink_status(dir_ / name, ec)))
    fs::remove(dir_ / name, ec);
}

bool OwnedDir::owns(const std::string& name) const {
  if (whole_) return true;
  const auto it = files_.find(name);
  return it != files_.end() && it->second == owner_;
}

void OwnedDir::record(const std::vector<std::string>& names) {
  bool changed = false;
  for (const std::string& name : names) {
    if (whole_ && name != kWholeKey) continue;
    auto [it, inserted] = files_.emplace(name, owner_);
    if (!inserted && it->second != owner_)
      throw Error((dir_ / name).string() + ": was written by " + it->second +
                  "; refusing to overwrite it");
    changed |= inserted;
  }
  if (!changed) return;
  nlohmann::json j;
  j["files"] = nlohmann::json::object();
  for (const auto& [file, who] : files_) j["files"][file] = who;
  write_file_atomic(dir_ / kOwnerMarker, j.dump(1) + "\n");
}

void OwnedDir::write(const std::string& name, const std::string& bytes) {
  write_all({{name, bytes}});
}

void OwnedDir::write_all(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> names;
  std::vector<std::pair<fs::path, std::string>> paths;
  for (const auto& [name, bytes] : files) {
    check_relative_name(dir_, name);
    std::error_code ec;
    if (fs::symlink_status(dir_ / name, ec).type() != fs::file_type::not_found && !owns(name))
      throw Error((dir_ / name).string() + ": exists and was not written by " + owner_ +
                  "; refusing to overwrite it");
    names.push_back(name);
    paths.emplace_back(dir_ / name, bytes);
  }
  record(names);
  write_files_atomic(paths);
}

}  // namespace eg
