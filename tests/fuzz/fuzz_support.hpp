#pragma once
// What every fuzz entry shares: a scratch directory for readers that take a path, and the split of
// one fuzz input into several files for readers that read a set of files (a trace, a data set).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace eg::fuzz {

// Separates the files of a multi-file input. Long and unusual, so it never occurs by chance in a
// real file of any of the formats, yet short enough for the fuzzer to insert it from the
// dictionary.
inline constexpr std::string_view kPartSeparator = "\n=egfuzz-part=\n";

// A directory created for this process on first use (mkdtemp under $TMPDIR or /tmp) and removed
// at exit. Entries overwrite their own files in it on every input.
const std::filesystem::path& scratch_dir();

// An empty subdirectory `name` of scratch_dir(): whatever an earlier input left there is removed.
std::filesystem::path fresh_subdir(const std::string& name);

// Writes `bytes` to `path` (plainly: the scratch directory is ours alone).
void write_bytes(const std::filesystem::path& path, std::string_view bytes);

// The input as a string view.
inline std::string_view as_text(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits `input` at kPartSeparator into at most `max_parts` parts (the last part keeps any further
// separators).
std::vector<std::string_view> split_parts(std::string_view input, std::size_t max_parts);

}  // namespace eg::fuzz
