#pragma once
// Writes a file atomically: temporary sibling, then rename, so readers never see partial output.
#include <filesystem>
#include <string>

namespace eg::train {

void write_file_atomically(const std::filesystem::path& path, const std::string& bytes);

}  // namespace eg::train
