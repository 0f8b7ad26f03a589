#pragma once
// Every JSON document the project reads (configs, manifests, reports, sweep files, checkpoint
// headers) is parsed here, with limits that keep a hostile file from crashing or exhausting the
// process: nesting depth (nlohmann's copy, dump and compare recurse) and file size.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace eg {

// Deepest nesting any of our documents needs is 6 (a sweep's grid, a report's dram.by_class);
// 64 leaves room for growth and is far below what exhausts the stack.
inline constexpr int kMaxJsonDepth = 64;
// Largest JSON file read: a ResNet-18 report is ~1 MiB and a manifest ~100 KiB.
inline constexpr std::size_t kMaxJsonFileBytes = std::size_t{64} << 20;

// Parses `text`; throws eg::Error "<source>: not valid JSON (<detail>)" or
// "<source>: JSON nested deeper than 64 levels". A document must be an object or array at the top
// only if the caller checks it; this function accepts any value.
nlohmann::json parse_json(std::string_view text, const std::string& source);

// Reads and parses a file: "<path>: missing or unreadable (<reason>)", "<path>: larger than N
// bytes", and parse_json's errors.
nlohmann::json load_json_file(const std::filesystem::path& path,
                              std::size_t max_bytes = kMaxJsonFileBytes);

}  // namespace eg
