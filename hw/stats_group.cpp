#include "hw/stats_group.hpp"

#include <systemc>

namespace eg::hw {

namespace {
void walk(const std::vector<sc_core::sc_object*>& objects, nlohmann::json& out) {
  for (const sc_core::sc_object* o : objects) {
    if (const auto* g = dynamic_cast<const StatsGroup*>(o)) out[o->name()] = g->statistics();
    walk(o->get_child_objects(), out);
  }
}
}  // namespace

nlohmann::json collect_statistics() {
  nlohmann::json out = nlohmann::json::object();
  walk(sc_core::sc_get_top_level_objects(), out);
  return out;
}

}  // namespace eg::hw
