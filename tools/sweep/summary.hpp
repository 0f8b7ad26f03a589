#pragma once
// The sweep's summary from whatever finished points exist: summary.json and summary.csv, sorted by
// point index, with no host-dependent content, so a serial run, a parallel run and a merge of
// cluster tasks give byte-identical files.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eg::sweep {

// Column order of summary.csv (and the keys of every summary.json row, plus "missing").
const std::vector<std::string>& summary_columns();

// Reads <out>/sweep.json and every listed point's result.json.
nlohmann::json build_summary(const std::filesystem::path& out);
std::string summary_csv(const nlohmann::json& summary);

// Writes summary.json, summary.csv, plots/*.svg and report.html into `out` (each atomically).
void write_summary(const std::filesystem::path& out);

}  // namespace eg::sweep
