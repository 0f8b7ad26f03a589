#pragma once
// Strict reading of JSON config objects: every key must be known, every value of the right type and
// range. Errors are one line, "<file>: <json pointer>: <problem>", so users can find the bad field.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <set>
#include <string>

#include "workloads/error.hpp"

namespace eg::strict_json {

inline std::string join(const std::string& pointer, const std::string& key) {
  return pointer + "/" + key;
}

[[noreturn]] inline void fail(const std::string& file, const std::string& pointer,
                              const std::string& problem) {
  throw Error(file + ": " + (pointer.empty() ? std::string("/") : pointer) + ": " + problem);
}

inline nlohmann::json load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, "", "cannot open file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path, "", std::string("not valid JSON (") + e.what() + ")");
  }
}

inline void require_object(const nlohmann::json& j, const std::string& file,
                           const std::string& pointer) {
  if (!j.is_object()) fail(file, pointer, "must be a JSON object");
}

// Rejects keys not in `allowed` (typos must not silently fall back to defaults).
inline void reject_unknown_keys(const nlohmann::json& j, const std::string& file,
                                const std::string& pointer, const std::set<std::string>& allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!allowed.count(it.key())) fail(file, join(pointer, it.key()), "unknown key");
  }
}

inline const nlohmann::json& member(const nlohmann::json& j, const std::string& file,
                                    const std::string& pointer, const std::string& key) {
  auto it = j.find(key);
  if (it == j.end()) fail(file, join(pointer, key), "missing");
  return *it;
}

inline double positive_number(const nlohmann::json& j, const std::string& file,
                              const std::string& pointer, const std::string& key) {
  const auto& v = member(j, file, pointer, key);
  if (!v.is_number()) fail(file, join(pointer, key), "must be a number");
  double d = v.get<double>();
  if (!(d > 0.0)) fail(file, join(pointer, key), "must be > 0 (got " + v.dump() + ")");
  return d;
}

inline double non_negative_number(const nlohmann::json& j, const std::string& file,
                                  const std::string& pointer, const std::string& key) {
  const auto& v = member(j, file, pointer, key);
  if (!v.is_number()) fail(file, join(pointer, key), "must be a number");
  double d = v.get<double>();
  if (!(d >= 0.0)) fail(file, join(pointer, key), "must be >= 0 (got " + v.dump() + ")");
  return d;
}

inline uint64_t positive_integer(const nlohmann::json& j, const std::string& file,
                                 const std::string& pointer, const std::string& key) {
  const auto& v = member(j, file, pointer, key);
  if (v.is_number_integer()) {
    if (v.get<int64_t>() <= 0)
      fail(file, join(pointer, key), "must be >= 1 (got " + v.dump() + ")");
    return v.get<uint64_t>();
  }
  fail(file, join(pointer, key), "must be a positive integer (got " + v.dump() + ")");
}

inline std::string string_value(const nlohmann::json& j, const std::string& file,
                                const std::string& pointer, const std::string& key) {
  const auto& v = member(j, file, pointer, key);
  if (!v.is_string()) fail(file, join(pointer, key), "must be a string");
  return v.get<std::string>();
}

inline std::string one_of(const nlohmann::json& j, const std::string& file,
                          const std::string& pointer, const std::string& key,
                          std::initializer_list<const char*> choices) {
  std::string s = string_value(j, file, pointer, key);
  std::string list;
  for (const char* c : choices) {
    if (s == c) return s;
    list += (list.empty() ? "" : ", ") + std::string("\"") + c + "\"";
  }
  fail(file, join(pointer, key), "must be one of " + list + " (got \"" + s + "\")");
}

}  // namespace eg::strict_json
