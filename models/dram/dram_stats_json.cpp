#include "models/dram/dram_stats_json.hpp"

namespace eg::dram {

nlohmann::json dram_figures_json(const DramStats& stats) {
  const DramCounts& t = stats.total;
  nlohmann::json j = {
      {"read_bytes", t.read_bytes}, {"write_bytes", t.write_bytes}, {"bursts", t.bursts()},
      {"activates", t.activates},   {"precharges", t.precharges},   {"row_hits", t.row_hits},
      {"row_misses", t.row_misses}, {"busy_cycles", t.busy_cycles}, {"refreshes", stats.refreshes}};
  j["by_class"] = nlohmann::json::object();
  for (int i = 0; i < kDataClasses; ++i)
    j["by_class"][kDataClassNames[i]] = {{"read_bytes", stats.by_class[i].read_bytes},
                                         {"write_bytes", stats.by_class[i].write_bytes}};
  return j;
}

}  // namespace eg::dram
