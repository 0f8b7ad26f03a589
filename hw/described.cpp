#include "hw/described.hpp"

#include <sstream>

#include <systemc>

namespace eg::hw {

namespace {

Parameters parameters_of(const sc_core::sc_object& object) {
  const auto* d = dynamic_cast<const Described*>(&object);
  return d ? d->parameters() : Parameters{};
}

std::vector<const sc_core::sc_object*> child_modules(const sc_core::sc_object& object) {
  std::vector<const sc_core::sc_object*> modules;
  for (const sc_core::sc_object* child : object.get_child_objects())
    if (dynamic_cast<const sc_core::sc_module*>(child)) modules.push_back(child);
  return modules;
}

// What alike siblings share: kind, parameter names and the whole subtree with its values. Values
// of the sibling's own parameters may differ (a cluster's place on the mesh); they print as a list.
std::string shape_of(const sc_core::sc_object& object, bool with_values) {
  std::string s = object.kind();
  for (const auto& [name, value] : parameters_of(object))
    s += " " + name + (with_values ? "=" + value : "");
  s += "{";
  for (const sc_core::sc_object* child : child_modules(object)) s += shape_of(*child, true) + ";";
  return s + "}";
}

void write(std::ostream& out, const std::vector<const sc_core::sc_object*>& modules, int depth) {
  for (size_t i = 0; i < modules.size();) {
    const std::string shape = shape_of(*modules[i], false);
    size_t j = i + 1;
    while (j < modules.size() && shape_of(*modules[j], false) == shape) ++j;
    const sc_core::sc_object& first = *modules[i];
    out << std::string(static_cast<size_t>(depth) * 2, ' ');
    if (j - i == 1)
      out << first.name() << "  (" << first.kind() << ")";
    else
      out << first.name() << " .. " << modules[j - 1]->basename() << "  (" << (j - i) << " x "
          << first.kind() << ")";
    const Parameters params = parameters_of(first);
    for (size_t k = 0; k < params.size(); ++k) {
      std::string values = params[k].second;
      bool same = true;
      for (size_t m = i + 1; m < j; ++m) same &= parameters_of(*modules[m])[k].second == values;
      if (!same)
        for (size_t m = i + 1; m < j; ++m) values += "," + parameters_of(*modules[m])[k].second;
      out << "  " << params[k].first << "=" << values;
    }
    out << "\n";
    write(out, child_modules(first), depth + 1);
    i = j;
  }
}

}  // namespace

std::string describe_hierarchy() {
  std::ostringstream out;
  std::vector<const sc_core::sc_object*> top;
  for (const sc_core::sc_object* o : sc_core::sc_get_top_level_objects())
    if (dynamic_cast<const sc_core::sc_module*>(o)) top.push_back(o);
  write(out, top, 0);
  return out.str();
}

}  // namespace eg::hw
