#pragma once
// File input and output with the project's safety rules: reads are bounded, every write goes to a
// temporary sibling that is renamed into place (readers never see half a file), and a failure
// removes what the call created and nothing else.
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace eg {

// "<strerror(errno)>" for the last failed system call, or `fallback` when errno is 0, so no message
// ever reads "... : Success".
std::string errno_text(int err, const std::string& fallback = "unknown error");

// Reads a whole file; throws eg::Error "<path>: missing or unreadable (<reason>)" or
// "<path>: larger than <max_bytes> bytes".
std::string read_file(const std::filesystem::path& path, std::size_t max_bytes);

// Writes `bytes` to a new temporary sibling (created exclusively, so it can never be someone else's
// file), flushes it and renames it over `path`. The parent directory must exist. On any failure the
// temporary is removed and eg::Error names `path` and the reason.
void write_file_atomic(const std::filesystem::path& path, const std::string& bytes);

// Writes several files as one unit: every temporary is written first, then each is renamed into
// place; if a rename fails, the files this call already moved are put back as they were (an earlier
// version is restored, a new file removed) and every temporary is removed.
void write_files_atomic(const std::vector<std::pair<std::filesystem::path, std::string>>& files);

// Creates a fresh directory "<parent>/.<stem>.<random>" that did not exist before (mkdtemp), so the
// caller provably owns it and may remove it whole.
std::filesystem::path make_unique_temp_dir(const std::filesystem::path& parent,
                                           const std::string& stem);

// Throws eg::Error "<dir>: not writable (<reason>)" unless a file can be created in `dir` (an
// existing directory); the probe file is removed again.
void check_writable_directory(const std::filesystem::path& dir);

}  // namespace eg
