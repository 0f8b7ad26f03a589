#pragma once
// A hash that stays the same across runs, machines and compilers (unlike std::hash), so it can name
// directories that a later run, or another machine of a cluster, must find again.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace eg::sweep {

// 64-bit FNV-1a of the bytes, as 16 lower-case hex digits.
std::string stable_hash(const std::string& bytes);
// stable_hash of the canonical dump (object keys sorted, no whitespace) of `value`.
std::string stable_hash(const nlohmann::json& value);
// stable_hash of a file's bytes, read in chunks (a checkpoint of any size); throws eg::Error
// naming the file when it cannot be read.
std::string stable_file_hash(const std::filesystem::path& file);

}  // namespace eg::sweep
