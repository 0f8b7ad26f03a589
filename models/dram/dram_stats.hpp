#pragma once
// DRAM activity counters: what the channel did, in total and per data class (the index is
// eg::hw::DataClass's value; models/ does not include hw/, so the count is repeated here and
// checked against hw/memory_port.hpp by a static_assert in hw/dram).
#include <array>
#include <cstdint>

namespace eg::dram {

inline constexpr int kDataClasses = 6;

struct DramCounts {
  uint64_t read_bytes = 0, write_bytes = 0;  // bytes moved on the DRAM pins (whole bursts)
  uint64_t read_bursts = 0, write_bursts = 0;
  uint64_t activates = 0, precharges = 0;
  uint64_t row_hits = 0, row_misses = 0;  // per burst: row already open, or not
  uint64_t busy_cycles = 0;               // DRAM clock cycles the data bus carried this traffic

  uint64_t bursts() const { return read_bursts + write_bursts; }
  // Counters only grow, so `later - earlier` is what happened in between (per layer x phase).
  DramCounts operator-(const DramCounts& o) const {
    DramCounts d;
    d.read_bytes = read_bytes - o.read_bytes;
    d.write_bytes = write_bytes - o.write_bytes;
    d.read_bursts = read_bursts - o.read_bursts;
    d.write_bursts = write_bursts - o.write_bursts;
    d.activates = activates - o.activates;
    d.precharges = precharges - o.precharges;
    d.row_hits = row_hits - o.row_hits;
    d.row_misses = row_misses - o.row_misses;
    d.busy_cycles = busy_cycles - o.busy_cycles;
    return d;
  }
  DramCounts& operator+=(const DramCounts& o) {
    read_bytes += o.read_bytes;
    write_bytes += o.write_bytes;
    read_bursts += o.read_bursts;
    write_bursts += o.write_bursts;
    activates += o.activates;
    precharges += o.precharges;
    row_hits += o.row_hits;
    row_misses += o.row_misses;
    busy_cycles += o.busy_cycles;
    return *this;
  }
};

struct DramStats {
  DramCounts total;
  std::array<DramCounts, kDataClasses> by_class{};
  // All-bank refreshes (each preceded by a precharge-all, which `precharges` does not count). They
  // serve no data class. Counted when the channel performs them, which it does at its next
  // scheduling decision after each tREFI; a refresh due while the channel is idle is counted when
  // the next request arrives.
  uint64_t refreshes = 0;

  DramStats& operator+=(const DramStats& o) {
    total += o.total;
    refreshes += o.refreshes;
    for (int i = 0; i < kDataClasses; ++i) by_class[i] += o.by_class[i];
    return *this;
  }
  DramStats operator-(const DramStats& o) const {
    DramStats d;
    d.total = total - o.total;
    d.refreshes = refreshes - o.refreshes;
    for (int i = 0; i < kDataClasses; ++i) d.by_class[i] = by_class[i] - o.by_class[i];
    return d;
  }
};

}  // namespace eg::dram
