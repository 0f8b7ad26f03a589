#pragma once
// The controller's view of simulated time, in accelerator cycles. The SystemC top implements it
// with sc_time_stamp() and wait(); the controller computes ahead of it (temporal decoupling) and
// only synchronises around memory transfers and at the end of each pass.
#include <cstdint>

namespace eg::hw::array {

class SimClock {
 public:
  virtual ~SimClock() = default;
  virtual uint64_t now_cycles() const = 0;
  virtual void wait_until(uint64_t cycle) = 0;  // no-op when `cycle` is not in the future
};

}  // namespace eg::hw::array
