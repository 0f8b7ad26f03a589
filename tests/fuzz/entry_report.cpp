// `egsim compare A B`: the input is report A, optionally followed by a separator and report B (A
// is compared with itself otherwise). Each is parsed as the command reads it, then compared and
// formatted as a table.
#include <string>

#include "base/error.hpp"
#include "base/json_io.hpp"
#include "tests/fuzz/fuzz_entries.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tools/compare/report_compare.hpp"

namespace eg::fuzz {

bool report_one(const uint8_t* data, std::size_t size) {
  const auto parts = split_parts(as_text(data, size), 2);
  const std::string_view b_text = parts.size() > 1 ? parts[1] : parts[0];
  try {
    const nlohmann::json a = parse_json(parts[0], "a/report.json");
    const nlohmann::json b = parse_json(b_text, "b/report.json");
    const nlohmann::json comparison =
        compare::compare_reports(a, "a/report.json", b, "b/report.json");
    compare::format_comparison(comparison);
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace eg::fuzz
