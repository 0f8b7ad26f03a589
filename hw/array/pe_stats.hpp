#pragma once
// What one PE did: every cycle falls in exactly one class, MACs by outcome, scratchpad traffic.
#include <cstdint>

#include "models/action_counts.hpp"

namespace eg::hw::array {

struct PeCycleClasses {
  uint64_t busy = 0, wait_input = 0, wait_output = 0, idle = 0;
  uint64_t total() const { return busy + wait_input + wait_output + idle; }
  PeCycleClasses& operator+=(const PeCycleClasses& o) {
    busy += o.busy, wait_input += o.wait_input, wait_output += o.wait_output, idle += o.idle;
    return *this;
  }
};

struct MacCounts {
  uint64_t issued = 0, skipped = 0;
  MacCounts& operator+=(const MacCounts& o) {
    issued += o.issued, skipped += o.skipped;
    return *this;
  }
};

}  // namespace eg::hw::array
