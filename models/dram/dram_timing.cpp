#include "models/dram/dram_timing.hpp"

#include <cmath>

#include "base/error.hpp"

namespace eg::dram {

namespace {

uint64_t ns_to_cycles(double ns, uint64_t period_ps) {
  // The small tolerance keeps exact multiples (e.g. 17.5 ns at 0.625 ns) from rounding up.
  return static_cast<uint64_t>(std::ceil(ns * 1000.0 / static_cast<double>(period_ps) - 1e-9));
}

// For a maximum interval: the largest whole number of cycles not longer than `ns`.
uint64_t ns_to_cycles_down(double ns, uint64_t period_ps) {
  return static_cast<uint64_t>(std::floor(ns * 1000.0 / static_cast<double>(period_ps) + 1e-9));
}

}  // namespace

DramTiming timing_in_cycles(const DramConfig& config) {
  DramTiming t;
  double period_ps = 1e6 / config.clock_mhz();
  if (std::fabs(period_ps - std::round(period_ps)) > 1e-6)
    throw Error("DRAM config: /data_rate_mtps: clock period " + std::to_string(period_ps) +
                " ps is not a whole number of picoseconds");
  t.clock_period_ps = static_cast<uint64_t>(std::round(period_ps));
  const DramTimingsNs& ns = config.timing_ns;
  t.tRCD = ns_to_cycles(ns.tRCD, t.clock_period_ps);
  t.tRP = ns_to_cycles(ns.tRP, t.clock_period_ps);
  t.tRAS = ns_to_cycles(ns.tRAS, t.clock_period_ps);
  t.tCL = ns_to_cycles(ns.tCL, t.clock_period_ps);
  t.tWL = ns_to_cycles(ns.tWL, t.clock_period_ps);
  t.tWR = ns_to_cycles(ns.tWR, t.clock_period_ps);
  t.tRTP = ns_to_cycles(ns.tRTP, t.clock_period_ps);
  t.tCCD = ns_to_cycles(ns.tCCD, t.clock_period_ps);
  t.tRPab = ns_to_cycles(ns.tRPab, t.clock_period_ps);
  t.tRRD = ns_to_cycles(ns.tRRD, t.clock_period_ps);
  t.tFAW = ns_to_cycles(ns.tFAW, t.clock_period_ps);
  t.tWTR = ns_to_cycles(ns.tWTR, t.clock_period_ps);
  t.tRTW = ns_to_cycles(ns.tRTW, t.clock_period_ps);
  t.tRFCab = ns_to_cycles(ns.tRFCab, t.clock_period_ps);
  t.tREFI = ns_to_cycles_down(ns.tREFI, t.clock_period_ps);
  if (t.tREFI <= t.tRPab + t.tRFCab)  // in whole clocks the refresh may no longer fit
    throw Error("DRAM config: /timing_ns/tREFI: " + std::to_string(t.tREFI) +
                " clocks must be more than tRPab + tRFCab = " + std::to_string(t.tRPab + t.tRFCab) +
                " clocks");
  t.burst_cycles = (config.burst_length + 1) / 2;
  return t;
}

}  // namespace eg::dram
