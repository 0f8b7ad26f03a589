#include "tools/sweep/json_file.hpp"

#include <fstream>
#include <sstream>

#include "base/error.hpp"

namespace eg::sweep {

namespace fs = std::filesystem;

std::string read_text_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json read_json_file(const fs::path& file) {
  const std::string text = read_text_file(file);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string detail = e.what();
    for (char& c : detail)
      if (c == '\n') c = ' ';
    throw Error(file.string() + ": not valid JSON: " + detail);
  }
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(2) + "\n";
}

}  // namespace eg::sweep
