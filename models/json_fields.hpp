#pragma once
// Strict reading of one JSON object of a config file: every field is required, has one type and a
// range, and keys nobody asked for are rejected by finish(). Errors are one line:
// "<file>: /pe/spad_psum_entries: must be >= 1" (the JSON pointer of the field).
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_io.hpp"  // load_json_file: every config file is read through it

namespace eg {

class JsonFields {
 public:
  // `pointer` is the JSON pointer of `object` inside the file ("" for the root).
  JsonFields(const nlohmann::json& object, std::string file, std::string pointer);

  int64_t integer(const std::string& key, int64_t min, int64_t max = INT64_MAX);
  double number(const std::string& key, double min, double max);
  double positive_number(const std::string& key);              // finite and > 0 (a timing, a rate)
  double positive_number(const std::string& key, double max);  // also <= max
  bool boolean(const std::string& key);
  std::string string(const std::string& key);
  std::string choice(const std::string& key, const std::vector<std::string>& allowed);
  JsonFields object(const std::string& key);
  // The value as it is (an array, say), marked as read; the caller validates it.
  const nlohmann::json& raw(const std::string& key) { return get(key); }
  bool has(const std::string& key) const;

  // Throws for the first key that no accessor read.
  void finish() const;

  const std::string& file() const { return file_; }
  // JSON pointer of `key` in this object (the key escaped per RFC 6901, control characters shown).
  std::string pointer(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  // A problem of an element inside the value of `key` ("<file>: /key/<index>: <problem>").
  [[noreturn]] void fail_element(const std::string& key, size_t index,
                                 const std::string& problem) const;
  // A problem of the object as a whole (a relation between its fields).
  [[noreturn]] void fail_object(const std::string& problem) const;

 private:
  const nlohmann::json& get(const std::string& key);

  const nlohmann::json& object_;
  std::string file_;
  std::string pointer_;
  std::set<std::string> read_;
};

}  // namespace eg
