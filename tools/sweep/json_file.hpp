#pragma once
// Reading JSON files with one-line errors; writes go through eg::write_file_atomic
// (base/files.hpp), so a reader, or a restarted sweep, never sees half a file.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace eg::sweep {

// Throws eg::Error "<file>: cannot open" / "<file>: not valid JSON: <detail>".
nlohmann::json read_json_file(const std::filesystem::path& file);
std::string read_text_file(const std::filesystem::path& file);

// Pretty-printed JSON (2-space indent) with a trailing newline: how the sweep writes its files.
std::string json_text(const nlohmann::json& value);

}  // namespace eg::sweep
