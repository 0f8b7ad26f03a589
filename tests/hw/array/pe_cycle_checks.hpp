#pragma once
// The PE-cycle invariant as test assertions: busy + input stall + output stall + idle equals
// cycles x PEs exactly. Each class is also bounded on its own, so a class that wrapped around 2^64
// cannot pass by cancelling out in a sum taken modulo 2^64.
#include <catch2/catch.hpp>

#include <cstdint>

#include "hw/array/pe_stats.hpp"

namespace eg::testing {

inline void check_pe_cycle_sum(const hw::array::PeCycleClasses& c, uint64_t cycles, uint64_t pes) {
  REQUIRE(cycles <= UINT64_MAX / pes);
  const uint64_t pe_cycles = cycles * pes;
  INFO("busy " << c.busy << ", input " << c.wait_input << ", output " << c.wait_output << ", idle "
               << c.idle << ", cycles x PEs " << cycles << " x " << pes);
  CHECK(c.busy <= pe_cycles);
  CHECK(c.wait_input <= pe_cycles);
  CHECK(c.wait_output <= pe_cycles);
  CHECK(c.idle <= pe_cycles);
  // Each term is at most pe_cycles, so this sum only wraps if pe_cycles > UINT64_MAX / 4.
  REQUIRE(pe_cycles <= UINT64_MAX / 4);
  CHECK(c.busy + c.wait_input + c.wait_output + c.idle == pe_cycles);
}

}  // namespace eg::testing
