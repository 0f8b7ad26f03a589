#include "hw/sweep/json_file.hpp"

#include <unistd.h>
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

void write_text_atomic(const fs::path& file, const std::string& text) {
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  // The pid keeps concurrent writers (separate --point processes) off each other's temp files.
  const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(tmp.string() + ": cannot create");
    out << text;
    out.flush();
    if (!out) throw Error(tmp.string() + ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp);
    throw Error(file.string() + ": cannot rename into place: " + ec.message());
  }
}

void write_json_atomic(const fs::path& file, const nlohmann::json& value) {
  write_text_atomic(file, value.dump(2) + "\n");
}

}  // namespace eg::sweep
