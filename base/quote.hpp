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

// "'text'" for a short name without control characters or quotes (the common case reads as
// before); anything else as quoted(text).
inline std::string single_quoted(const std::string& text) {
  bool plain = text.size() <= kMaxQuotedChars;
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '"' || c == '\\') plain = false;
  return plain ? "'" + text + "'" : quoted(text);
}

// A JSON object key as one JSON pointer token (RFC 6901: '~' -> "~0", '/' -> "~1"), with control
// characters shown as \xNN and keys longer than kMaxQuotedChars bytes cut, so that a hostile key
// cannot break the one-line message.
inline std::string pointer_token(const std::string& key) {
  static const char hex[] = "0123456789abcdef";
  std::string token;
  for (char c : key.substr(0, kMaxQuotedChars)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '~')
      token += "~0";
    else if (c == '/')
      token += "~1";
    else if (u < 0x20 || u == 0x7f)
      token += std::string("\\x") + hex[u >> 4] + hex[u & 0xf];
    else
      token += c;
  }
  if (key.size() > kMaxQuotedChars) token += "...";
  return token;
}

}  // namespace eg
