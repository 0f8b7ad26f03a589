#include "tools/sweep/stable_hash.hpp"

#include <cstdint>
#include <cstdio>

namespace eg::sweep {

std::string stable_hash(const std::string& bytes) {
  // FNV-1a parameters from the published specification (Fowler, Noll, Vo).
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

std::string stable_hash(const nlohmann::json& value) {
  // nlohmann::json stores objects in a std::map, so dump() is already key-sorted.
  return stable_hash(value.dump());
}

}  // namespace eg::sweep
