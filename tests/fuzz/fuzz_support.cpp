#include "tests/fuzz/fuzz_support.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "base/files.hpp"

namespace eg::fuzz {

namespace fs = std::filesystem;

namespace {

fs::path& scratch_storage() {
  static fs::path dir;
  return dir;
}

void remove_scratch() {
  std::error_code ec;
  if (!scratch_storage().empty()) fs::remove_all(scratch_storage(), ec);
}

}  // namespace

const fs::path& scratch_dir() {
  fs::path& dir = scratch_storage();
  if (dir.empty()) {
    dir = make_unique_temp_dir(fs::temp_directory_path(), "egfuzz");
    std::atexit(remove_scratch);
  }
  return dir;
}

fs::path fresh_subdir(const std::string& name) {
  const fs::path dir = scratch_dir() / name;
  fs::remove_all(dir);
  fs::create_directory(dir);
  return dir;
}

void write_bytes(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  // A harness that cannot write its input would test nothing: stop loudly.
  if (!out) throw std::runtime_error("fuzz harness: cannot write " + path.string());
}

std::vector<std::string_view> split_parts(std::string_view input, std::size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const std::size_t at = input.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(input.substr(0, at));
    input.remove_prefix(at + kPartSeparator.size());
  }
  parts.push_back(input);
  return parts;
}

}  // namespace eg::fuzz
