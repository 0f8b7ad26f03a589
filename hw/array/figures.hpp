#pragma once
// What the array measured for one layer x phase (docs/DESIGN.md §7 FIGURES before pricing): cycles,
// MACs, PE-cycle classes, action counts, the off-chip bytes the array asked for by class, and what
// the DRAM actually did (after GLB reuse, compression and feedback regeneration). Adds up.
#include <array>
#include <cstdint>

#include "hw/array/pe_stats.hpp"
#include "hw/memory_port.hpp"
#include "models/action_counts.hpp"
#include "models/dram/dram_stats.hpp"

namespace eg::hw::array {

struct OffchipTraffic {
  std::array<uint64_t, kDataClassCount> read_bytes{}, write_bytes{};
  uint64_t transfers = 0;
  void add(const MemoryRequest& r) {
    (r.write ? write_bytes : read_bytes)[static_cast<size_t>(r.data_class)] += r.bytes;
    ++transfers;
  }
  OffchipTraffic& operator+=(const OffchipTraffic& o) {
    for (size_t i = 0; i < read_bytes.size(); ++i)
      read_bytes[i] += o.read_bytes[i], write_bytes[i] += o.write_bytes[i];
    transfers += o.transfers;
    return *this;
  }
};

// E²-Train's PSG weight-gradient phase (controller_psg.cpp): the predictor pass's MACs over all
// weights (dense count, issued + skipped) and the completion pass's over the weights the mask sends
// to full precision.
struct PsgFigures {
  uint64_t predictor_macs = 0, completion_macs = 0;
  uint64_t weights = 0, full_precision_weights = 0;
  PsgFigures& operator+=(const PsgFigures& o) {
    predictor_macs += o.predictor_macs, completion_macs += o.completion_macs;
    weights += o.weights, full_precision_weights += o.full_precision_weights;
    return *this;
  }
};

struct PhaseFigures {
  uint64_t cycles = 0;
  MacCounts macs;
  PeCycleClasses pe_cycles;  // summed over all PEs; total() == cycles x PE count
  ActionCounts actions;
  uint64_t glb_conflicts = 0;
  OffchipTraffic offchip;  // requested by the array, before the memory interface
  dram::DramStats dram;    // DRAM counters accumulated while this layer x phase ran
  PsgFigures psg;          // weight-gradient phase of a PSG layer only
  PhaseFigures& operator+=(const PhaseFigures& o) {
    psg += o.psg;
    cycles += o.cycles, macs += o.macs, pe_cycles += o.pe_cycles, actions += o.actions;
    glb_conflicts += o.glb_conflicts, offchip += o.offchip, dram += o.dram;
    return *this;
  }
};

}  // namespace eg::hw::array
