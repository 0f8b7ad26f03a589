#pragma once
// `egsim compare A B`: two report.json files (schema "egsim-report" v1, docs/DESIGN.md §7) side by
// side. Every numeric figure of "totals" and of each phase (nested keys joined with '.', e.g.
// "energy_pj.dram") becomes {"a", "b", "b_over_a", "a_over_b"}; a ratio whose denominator is 0, or
// a figure one report lacks, is null. "headline" names the ratios architects quote: throughput
// (gops), average power of the whole system (power_mw), of the chip alone (chip_power_mw: dynamic
// plus leakage, what a synthesised chip's power report gives) and of the DRAM (dram_power_mw),
// energy (energy_pj.total), DRAM traffic (read + write bytes) and cycles. A report written before
// the chip/DRAM split lacks the two and gets null ratios for them.
#include <nlohmann/json.hpp>

#include <string>

namespace eg::compare {

// Throws eg::Error "<file>: /schema: ..." when a report is not an egsim-report v1.
void check_report(const nlohmann::json& report, const std::string& file);

nlohmann::json compare_reports(const nlohmann::json& a, const std::string& a_file,
                               const nlohmann::json& b, const std::string& b_file);

// Human-readable table of a compare_reports() result.
std::string format_comparison(const nlohmann::json& comparison);

}  // namespace eg::compare
