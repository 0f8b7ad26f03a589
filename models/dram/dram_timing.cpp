#include "models/dram/dram_timing.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "base/error.hpp"

namespace eg::dram {

namespace {

// Largest cycle count a timing may convert to: doubles hold integers exactly up to 2^53, and a
// validated config (timings <= kMaxTimingNs, tCK >= 20 ps) stays below 5e6.
constexpr double kMaxTimingCycles = 9007199254740992.0;  // 2^53

uint64_t ns_to_cycles(double ns, uint64_t period_ps, const char* name) {
  // The small tolerance keeps exact multiples (e.g. 17.5 ns at 0.625 ns) from rounding up.
  const double cycles = std::ceil(ns * 1000.0 / static_cast<double>(period_ps) - 1e-9);
  if (!(ns > 0.0 && ns <= kMaxTimingNs) || !(cycles <= kMaxTimingCycles))
    throw Error(std::string("DRAM config: /timing_ns/") + name + ": " + std::to_string(ns) +
                " ns is not a positive time of at most " + std::to_string(kMaxTimingNs) + " ns");
  // A positive time occupies at least one clock (JEDEC: nCK = ceil(t / tCK) >= 1).
  return std::max<uint64_t>(1, static_cast<uint64_t>(cycles));
}

// For a maximum interval: the largest whole number of cycles not longer than `ns`.
uint64_t ns_to_cycles_down(double ns, uint64_t period_ps, const char* name) {
  const double cycles = std::floor(ns * 1000.0 / static_cast<double>(period_ps) + 1e-9);
  if (!(ns > 0.0 && ns <= kMaxTimingNs) || !(cycles <= kMaxTimingCycles))
    throw Error(std::string("DRAM config: /timing_ns/") + name + ": " + std::to_string(ns) +
                " ns is not a positive time of at most " + std::to_string(kMaxTimingNs) + " ns");
  return static_cast<uint64_t>(cycles);
}

}  // namespace

DramTiming timing_in_cycles(const DramConfig& config) {
  DramTiming t;
  double period_ps = 1e6 / config.clock_mhz();
  if (!std::isfinite(period_ps) || period_ps < 1.0 ||
      std::fabs(period_ps - std::round(period_ps)) > 1e-6)
    throw Error("DRAM config: /data_rate_mtps: clock period " + std::to_string(period_ps) +
                " ps is not a whole number of picoseconds");
  t.clock_period_ps = static_cast<uint64_t>(std::round(period_ps));
  const DramTimingsNs& ns = config.timing_ns;
  t.tRCD = ns_to_cycles(ns.tRCD, t.clock_period_ps, "tRCD");
  t.tRP = ns_to_cycles(ns.tRP, t.clock_period_ps, "tRP");
  t.tRAS = ns_to_cycles(ns.tRAS, t.clock_period_ps, "tRAS");
  t.tCL = ns_to_cycles(ns.tCL, t.clock_period_ps, "tCL");
  t.tWL = ns_to_cycles(ns.tWL, t.clock_period_ps, "tWL");
  t.tWR = ns_to_cycles(ns.tWR, t.clock_period_ps, "tWR");
  t.tRTP = ns_to_cycles(ns.tRTP, t.clock_period_ps, "tRTP");
  t.tCCD = ns_to_cycles(ns.tCCD, t.clock_period_ps, "tCCD");
  t.tRPab = ns_to_cycles(ns.tRPab, t.clock_period_ps, "tRPab");
  t.tRRD = ns_to_cycles(ns.tRRD, t.clock_period_ps, "tRRD");
  t.tFAW = ns_to_cycles(ns.tFAW, t.clock_period_ps, "tFAW");
  t.tWTR = ns_to_cycles(ns.tWTR, t.clock_period_ps, "tWTR");
  t.tRTW = ns_to_cycles(ns.tRTW, t.clock_period_ps, "tRTW");
  t.tRFCab = ns_to_cycles(ns.tRFCab, t.clock_period_ps, "tRFCab");
  t.tREFI = ns_to_cycles_down(ns.tREFI, t.clock_period_ps, "tREFI");
  if (t.tREFI <= t.tRPab + t.tRFCab)  // in whole clocks the refresh may no longer fit
    throw Error("DRAM config: /timing_ns/tREFI: " + std::to_string(t.tREFI) +
                " clocks must be more than tRPab + tRFCab = " + std::to_string(t.tRPab + t.tRFCab) +
                " clocks");
  t.burst_cycles = (config.burst_length + 1) / 2;
  return t;
}

}  // namespace eg::dram
