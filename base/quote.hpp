#pragma once
// User-supplied text inside an error message: quoted and escaped as a JSON string (a newline in a
// name cannot break the one-line message) and cut to a readable length.
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace eg {

// Longest piece of user text a message repeats; the rest is elided as "...".
inline constexpr std::size_t kMaxQuotedChars = 80;

// "\"text\"" with control characters and quotes escaped; text longer than kMaxQuotedChars bytes
// is cut there (at a UTF-8 character boundary) and ends in "...".
inline std::string quoted(const std::string& text) {
  if (text.size() <= kMaxQuotedChars)
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::size_t cut = kMaxQuotedChars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  const std::string shown = nlohmann::json(text.substr(0, cut))
                                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return shown.substr(0, shown.size() - 1) + "...\"";
}

}  // namespace eg
