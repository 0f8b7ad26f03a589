#pragma once
// What a module shows in the elaborated hierarchy (`egsim describe`): its parameters, named as in
// the config section it was built from, with their values as the module uses them.
#include <string>
#include <utility>
#include <vector>

namespace eg::hw {

using Parameters = std::vector<std::pair<std::string, std::string>>;

class Described {
 public:
  virtual ~Described() = default;
  virtual Parameters parameters() const = 0;
};

// Writes the hierarchy under the top-level objects of the current SystemC context, one module a
// line, indented by depth, with its kind and parameters. Siblings that are alike (same kind, same
// children) are printed once as a range, "pe0 .. pe11  (12 x Pe)"; a parameter whose value differs
// among them lists every value in order ("mesh_delay_cycles=0,1,2,1,2,3").
std::string describe_hierarchy();

}  // namespace eg::hw
