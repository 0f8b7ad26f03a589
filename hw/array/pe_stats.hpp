#pragma once
// What one PE did: every cycle falls in exactly one class, MACs by outcome, scratchpad traffic.
#include <cstdint>
#include <string>

#include "base/checked.hpp"
#include "models/action_counts.hpp"

namespace eg::hw::array {

struct PeCycleClasses {
  uint64_t busy = 0, wait_input = 0, wait_output = 0, idle = 0;
  uint64_t total() const { return busy + wait_input + wait_output + idle; }
  PeCycleClasses& operator+=(const PeCycleClasses& o) {
    busy = checked_add(busy, o.busy, "busy PE-cycles");
    wait_input = checked_add(wait_input, o.wait_input, "input-stall PE-cycles");
    wait_output = checked_add(wait_output, o.wait_output, "output-stall PE-cycles");
    idle = checked_add(idle, o.idle, "idle PE-cycles");
    return *this;
  }
};

// The PE-cycle invariant: each of `pes` PEs spends each of `cycles` cycles in exactly one class,
// so busy + input stall + output stall + idle == cycles x pes. Checked without modular
// arithmetic: every class must fit in cycles x pes on its own (a class that wrapped around 2^64
// would otherwise cancel out in the sum). Throws eg::Error naming `what` when it does not hold.
inline void check_pe_cycles_add_up(const PeCycleClasses& c, uint64_t cycles, uint64_t pes,
                                   const std::string& what) {
  const uint64_t want = checked_mul(cycles, pes, what + ": cycles x PEs");
  uint64_t sum = 0;
  bool bounded = true;
  for (uint64_t v : {c.busy, c.wait_input, c.wait_output, c.idle}) {
    bounded = bounded && v <= want;
    sum = checked_add(sum, v, what + ": PE-cycle classes");
  }
  if (!bounded || sum != want)
    throw Error(what + ": PE-cycle classes (busy " + std::to_string(c.busy) + ", input stall " +
                std::to_string(c.wait_input) + ", output stall " + std::to_string(c.wait_output) +
                ", idle " + std::to_string(c.idle) + ") do not add up to cycles x PEs (" +
                std::to_string(cycles) + " x " + std::to_string(pes) + ")");
}

struct MacCounts {
  uint64_t issued = 0, skipped = 0;
  MacCounts& operator+=(const MacCounts& o) {
    issued += o.issued, skipped += o.skipped;
    return *this;
  }
};

}  // namespace eg::hw::array
