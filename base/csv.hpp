#pragma once
// One CSV field per RFC 4180: quoted when it holds a comma, a quote, CR or LF (quotes doubled), so
// a crafted layer name can never add columns or rows to a report.
#include <string>

namespace eg {

inline std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace eg
