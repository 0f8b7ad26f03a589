#pragma once
// The run's timeline (`egsim run --timeline FILE`): what the accelerator did when, written as a
// Chrome trace-event JSON ("traceEvents") that Perfetto and chrome://tracing open. Timestamps and
// durations are microseconds of simulated time (accelerator cycles / clock_mhz); every event also
// carries its cycle numbers in `args`.
//
// Modules hold a `TimelineRecorder*` that is null when no timeline was asked for, so the recording
// costs one pointer test when it is off. What is recorded:
//  - the "accelerator" track: one span per layer (its consecutive phases) with its phases nested;
//  - one track per processing cluster, named as its module ("accelerator.pc0", ...): per pass its
//    compute interval and the intervals in which its PEs wait for DRAM;
//  - one track per data class and direction ("accelerator.dma.weights.read", ...): the transfers
//    that reach DRAM, with the bytes moved (whole bursts) and the bytes asked for;
//  - the counter "DRAM bandwidth": GB/s read and written on the DRAM data bus, per window of
//    `window_cycles` accelerator cycles.
// Consecutive events of one kind that touch (or overlap) on a track within one layer x phase are
// merged into one, their counts summed; on a cluster track an interval or a gap shorter than
// kShortClusterIntervalCycles also merges into the interval it touches (the merged event is named
// after the longer and counts the cycles of each kind, "compute cycles", "wait DRAM cycles"). So a
// layer whose passes each end with a short DRAM wait is one compute span per cluster, not two per
// pass.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <systemc>

#include "hw/memory_port.hpp"

namespace eg::hw {

// Width of one DRAM bandwidth sample. 10000 cycles (50 µs at 200 MHz) keeps a whole training
// iteration of ResNet-18 at batch 8 (about 150 M cycles) near 15000 samples, while a single layer
// chosen with --layers (a few M cycles) still shows a few hundred.
inline constexpr uint64_t kDefaultTimelineWindowCycles = 10000;

// Cluster intervals shorter than this fold into their neighbour (see above). A pass lasts hundreds
// to thousands of cycles; a wait of a few dozen cycles at its end is a few percent of it, invisible
// at the zoom that shows the layer, and would otherwise double the event count of every phase.
inline constexpr uint64_t kShortClusterIntervalCycles = 64;

class TimelineRecorder {
 public:
  // Named counts summed when events merge (PE-cycles, bytes, transfers).
  using Counts = std::vector<std::pair<std::string, uint64_t>>;

  // `clock_mhz`: the accelerator clock; `window_cycles` (>= 1): the bandwidth sampling window.
  TimelineRecorder(double clock_mhz, uint64_t window_cycles);

  // Called by the SystemC top once its clock exists: the period that turns SystemC time into
  // accelerator cycles (the same conversion as its now_cycles()).
  void attach(const sc_core::sc_time& clock_period);
  // Accelerator cycles now (whole cycles elapsed).
  uint64_t now() const;

  // A layer x phase runs from `begin` to `end` (cycles). Layer `index` (forward order) gets one
  // span per run of consecutive phases. begin_phase() also keeps later events from merging with
  // earlier ones, so every event belongs to one phase.
  void begin_phase();
  void phase(size_t index, const std::string& layer, const std::string& phase, uint64_t begin,
             uint64_t end, const Counts& counts);

  // Cluster `cluster` (its hierarchical name `name`, "accelerator.pc3") did `what` ("compute",
  // "wait DRAM", ...) from `begin` to `end`.
  void cluster(size_t cluster, const std::string& name, const char* what, uint64_t begin,
               uint64_t end, const Counts& counts);

  // A transfer that reached DRAM: `dram_bytes` on the pins (whole bursts) for `requested_bytes`.
  void dma(DataClass data_class, bool write, uint64_t begin, uint64_t end, uint64_t dram_bytes,
           uint64_t requested_bytes);

  // `bytes` crossed the DRAM data bus between two SystemC times (spread evenly over the windows
  // they fall in).
  void dram_bus(bool write, const sc_core::sc_time& begin, const sc_core::sc_time& end,
                uint64_t bytes);

  // The whole trace-event JSON; `other` goes to "otherData" (config, trace, clock).
  std::string json(const std::vector<std::pair<std::string, std::string>>& other) const;

  uint64_t window_cycles() const { return window_cycles_; }
  size_t event_count() const { return events_.size(); }

 private:
  struct Event {
    size_t track = 0;
    std::string name;
    uint64_t begin = 0, end = 0;
    uint64_t epoch = 0;  // begin_phase() count when recorded: events merge only within one
    uint64_t merged = 1;
    std::vector<std::pair<std::string, std::string>> labels;
    Counts counts;
  };
  size_t track(const std::string& name, int sort_index);
  enum class Merge { Never, Same, SameOrShort };
  void add(Event event, Merge merge);

  double clock_mhz_;
  uint64_t window_cycles_;
  sc_core::sc_time period_;
  uint64_t epoch_ = 0;
  std::vector<std::pair<std::string, int>> tracks_;  // name, sort index
  std::map<std::string, size_t> track_index_;
  std::vector<size_t> last_event_;  // per track: index into events_ + 1 (0: none yet)
  std::vector<Event> events_;
  // Layer spans under construction: the last one can still grow.
  struct LayerSpan {
    size_t index = 0;
    uint64_t begin = 0, end = 0;
    std::string name;
  };
  std::vector<LayerSpan> layers_;
  std::vector<double> read_bytes_, write_bytes_;  // per bandwidth window
};

}  // namespace eg::hw
