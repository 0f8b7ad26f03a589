#pragma once
// A hash that stays the same across runs, machines and compilers (unlike std::hash), so it can name
// directories that a later run, or another machine of a cluster, must find again.
#include <string>

#include <nlohmann/json.hpp>

namespace eg::sweep {

// 64-bit FNV-1a of the bytes, as 16 lower-case hex digits.
std::string stable_hash(const std::string& bytes);
// stable_hash of the canonical dump (object keys sorted, no whitespace) of `value`.
std::string stable_hash(const nlohmann::json& value);

}  // namespace eg::sweep
