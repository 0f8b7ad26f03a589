#pragma once
// Reading JSON files with one-line errors, and writing files atomically (temp file + rename) so a
// reader, or a restarted sweep, never sees half a file.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace eg::sweep {

// Throws eg::Error "<file>: cannot open" / "<file>: not valid JSON: <detail>".
nlohmann::json read_json_file(const std::filesystem::path& file);
std::string read_text_file(const std::filesystem::path& file);

// Writes `text` to a temporary sibling and renames it over `file`; creates parent directories.
void write_text_atomic(const std::filesystem::path& file, const std::string& text);
// Pretty-printed JSON (2-space indent) with a trailing newline, written atomically.
void write_json_atomic(const std::filesystem::path& file, const nlohmann::json& value);

}  // namespace eg::sweep
