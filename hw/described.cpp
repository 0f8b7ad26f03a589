#include "hw/described.hpp"

#include <sstream>

#include <systemc>

namespace eg::hw {

namespace {

std::string parameter_text(const sc_core::sc_object& object) {
  const auto* d = dynamic_cast<const Described*>(&object);
  if (!d) return "";
  std::string text;
  for (const auto& [name, value] : d->parameters()) text += "  " + name + "=" + value;
  return text;
}

// The subtree under `object` without its own name, so alike siblings compare equal.
std::string shape_of(const sc_core::sc_object& object) {
  std::string s = std::string(object.kind()) + parameter_text(object) + "{";
  for (const sc_core::sc_object* child : object.get_child_objects())
    if (dynamic_cast<const sc_core::sc_module*>(child)) s += shape_of(*child) + ";";
  return s + "}";
}

void write(std::ostream& out, const std::vector<sc_core::sc_object*>& siblings, int depth) {
  std::vector<const sc_core::sc_object*> modules;
  for (const sc_core::sc_object* o : siblings)
    if (dynamic_cast<const sc_core::sc_module*>(o)) modules.push_back(o);
  for (size_t i = 0; i < modules.size();) {
    const std::string shape = shape_of(*modules[i]);
    size_t j = i + 1;
    while (j < modules.size() && shape_of(*modules[j]) == shape) ++j;
    const sc_core::sc_object& first = *modules[i];
    out << std::string(static_cast<size_t>(depth) * 2, ' ');
    if (j - i == 1)
      out << first.name() << "  (" << first.kind() << ")";
    else
      out << first.name() << " .. " << modules[j - 1]->basename() << "  (" << (j - i) << " x "
          << first.kind() << ")";
    out << parameter_text(first) << "\n";
    write(out, first.get_child_objects(), depth + 1);
    i = j;
  }
}

}  // namespace

std::string describe_hierarchy() {
  std::ostringstream out;
  write(out, sc_core::sc_get_top_level_objects(), 0);
  return out.str();
}

}  // namespace eg::hw
