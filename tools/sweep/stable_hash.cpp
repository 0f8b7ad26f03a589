#include "tools/sweep/stable_hash.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>

#include "base/error.hpp"
#include "base/files.hpp"

namespace eg::sweep {

namespace {

// FNV-1a parameters from the published specification (Fowler, Noll, Vo).
constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

void fnv1a(uint64_t& hash, const char* bytes, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    hash ^= static_cast<unsigned char>(bytes[i]);
    hash *= kFnvPrime;
  }
}

std::string hex(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace

std::string stable_hash(const std::string& bytes) {
  uint64_t hash = kFnvOffsetBasis;
  fnv1a(hash, bytes.data(), bytes.size());
  return hex(hash);
}

std::string stable_hash(const nlohmann::json& value) {
  // nlohmann::json stores objects in a std::map, so dump() is already key-sorted.
  return stable_hash(value.dump());
}

std::string stable_file_hash(const std::filesystem::path& file) {
  errno = 0;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string() + ": cannot open: " + errno_text(errno));
  uint64_t hash = kFnvOffsetBasis;
  // 64 KiB reads: few system calls, little memory.
  std::string buffer(std::size_t{1} << 16, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    fnv1a(hash, buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw Error(file.string() + ": read failed: " + errno_text(errno));
  return hex(hash);
}

}  // namespace eg::sweep
