#pragma once
// The report's "dram" figures (docs/DESIGN.md §7) from the channel's counters.
#include <nlohmann/json.hpp>

#include "models/dram/dram_stats.hpp"

namespace eg::dram {

// Report names of the data classes, in eg::hw::DataClass order (checked by tests/hw/dram).
inline constexpr const char* kDataClassNames[kDataClasses] = {
    "activations", "weights", "feedback", "gradients", "weight_gradients", "momentum"};

// {"read_bytes", "write_bytes", "bursts", "activates", "precharges", "row_hits", "row_misses",
//  "busy_cycles", "refreshes", "by_class": {class: {"read_bytes", "write_bytes"}}}
nlohmann::json dram_figures_json(const DramStats& stats);

}  // namespace eg::dram
