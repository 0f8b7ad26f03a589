#pragma once
// The configured timings in DRAM clock cycles. Each minimum spacing is rounded UP to whole cycles
// (a controller may not issue a command early), as JEDEC's "nCK = ceil(t / tCK)" rule does. tREFI
// is a maximum (the average refresh interval may not be longer), so it is rounded DOWN.
#include <cstdint>

#include "models/dram/dram_config.hpp"

namespace eg::dram {

struct DramTiming {
  uint64_t clock_period_ps = 0;  // tCK
  uint64_t tRCD = 0, tRP = 0, tRAS = 0, tCL = 0, tWL = 0, tWR = 0, tRTP = 0, tCCD = 0;
  uint64_t tRPab = 0, tRRD = 0, tFAW = 0, tWTR = 0, tRTW = 0, tRFCab = 0, tREFI = 0;
  uint64_t burst_cycles = 0;  // data-bus occupancy of one burst: BL / 2 at double data rate

  double cycles_to_ns(uint64_t cycles) const { return cycles * clock_period_ps / 1000.0; }
};

// Throws eg::Error if tCK is not a whole number of picoseconds (the model's time base).
DramTiming timing_in_cycles(const DramConfig& config);

}  // namespace eg::dram
