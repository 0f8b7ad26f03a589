#include "models/json_fields.hpp"

#include <cmath>

#include "base/error.hpp"
#include "base/quote.hpp"

namespace eg {

JsonFields::JsonFields(const nlohmann::json& object, std::string file, std::string pointer)
    : object_(object), file_(std::move(file)), pointer_(std::move(pointer)) {
  if (!object_.is_object())
    throw Error(file_ + ": " + (pointer_.empty() ? "/" : pointer_) + ": must be an object");
}

std::string JsonFields::pointer(const std::string& key) const {
  return pointer_ + "/" + pointer_token(key);
}

void JsonFields::fail(const std::string& key, const std::string& problem) const {
  throw Error(file_ + ": " + pointer(key) + ": " + problem);
}

void JsonFields::fail_element(const std::string& key, size_t index,
                              const std::string& problem) const {
  throw Error(file_ + ": " + pointer(key) + "/" + std::to_string(index) + ": " + problem);
}

void JsonFields::fail_object(const std::string& problem) const {
  throw Error(file_ + ": " + (pointer_.empty() ? "/" : pointer_) + ": " + problem);
}

bool JsonFields::has(const std::string& key) const {
  return object_.contains(key);
}

const nlohmann::json& JsonFields::get(const std::string& key) {
  auto it = object_.find(key);
  if (it == object_.end()) fail(key, "missing");
  read_.insert(key);
  return *it;
}

int64_t JsonFields::integer(const std::string& key, int64_t min, int64_t max) {
  const nlohmann::json& v = get(key);
  if (!v.is_number_integer()) fail(key, "must be an integer");
  // An unsigned value above INT64_MAX would wrap to a negative number.
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(max))
    fail(key, "must be <= " + std::to_string(max));
  const int64_t x = v.get<int64_t>();
  if (x < min) fail(key, "must be >= " + std::to_string(min));
  if (x > max) fail(key, "must be <= " + std::to_string(max));
  return x;
}

double JsonFields::number(const std::string& key, double min, double max) {
  const nlohmann::json& v = get(key);
  if (!v.is_number()) fail(key, "must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) fail(key, "must be finite");
  if (x < min) fail(key, "must be >= " + nlohmann::json(min).dump());
  if (x > max) fail(key, "must be <= " + nlohmann::json(max).dump());
  return x;
}

double JsonFields::positive_number(const std::string& key) {
  const nlohmann::json& v = get(key);
  if (!v.is_number()) fail(key, "must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || !(x > 0.0)) fail(key, "must be > 0 (got " + v.dump() + ")");
  return x;
}

double JsonFields::positive_number(const std::string& key, double max) {
  const double x = positive_number(key);
  if (x > max)
    fail(key, "must be <= " + nlohmann::json(max).dump() + " (got " + get(key).dump() + ")");
  return x;
}

bool JsonFields::boolean(const std::string& key) {
  const nlohmann::json& v = get(key);
  if (!v.is_boolean()) fail(key, "must be true or false");
  return v.get<bool>();
}

std::string JsonFields::string(const std::string& key) {
  const nlohmann::json& v = get(key);
  if (!v.is_string()) fail(key, "must be a string");
  return v.get<std::string>();
}

std::string JsonFields::choice(const std::string& key, const std::vector<std::string>& allowed) {
  const std::string v = string(key);
  std::string list;
  for (const std::string& a : allowed) {
    if (v == a) return v;
    list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
  }
  fail(key, "is " + quoted(v) + ", expected one of " + list);
}

JsonFields JsonFields::object(const std::string& key) {
  const nlohmann::json& v = get(key);
  if (!v.is_object()) fail(key, "must be an object");
  return JsonFields(v, file_, pointer(key));
}

void JsonFields::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it)
    if (!read_.count(it.key())) fail(it.key(), "unknown key");
}

}  // namespace eg
