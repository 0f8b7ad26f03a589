#include "base/json_io.hpp"

#include "base/error.hpp"
#include "base/files.hpp"

namespace eg {

namespace {

// nlohmann's message without its "[json.exception.parse_error.101] " prefix, on one line.
std::string one_line_detail(const std::string& what) {
  std::string detail = what;
  if (!detail.empty() && detail.front() == '[') {
    const auto close = detail.find("] ");
    if (close != std::string::npos) detail = detail.substr(close + 2);
  }
  for (char& c : detail)
    if (c == '\n' || c == '\r') c = ' ';
  return detail;
}

struct TooDeep {};

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& source) {
  // The parser itself is iterative; the depth check keeps recursive consumers (copy, dump, ==)
  // safe.
  const auto limit_depth = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    if (depth > kMaxJsonDepth && (event == nlohmann::json::parse_event_t::object_start ||
                                  event == nlohmann::json::parse_event_t::array_start))
      throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), limit_depth);
  } catch (const TooDeep&) {
    throw Error(source + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": not valid JSON (" + one_line_detail(e.what()) + ")");
  }
}

nlohmann::json load_json_file(const std::filesystem::path& path, std::size_t max_bytes) {
  return parse_json(read_file(path, max_bytes), path.string());
}

}  // namespace eg
