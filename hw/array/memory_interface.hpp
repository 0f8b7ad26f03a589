#pragma once
// The GLB side of the off-chip boundary: every transfer the controller and the array engine ask for
// passes here, and the schedule's decisions about each tensor decide what reaches DRAM and how many
// bytes it carries:
//  - a tensor held in the GLB between two layers is served on chip (no DRAM traffic),
//  - δ̂ tensors move compressed (their compressed/raw size ratio, from the trace's actual zeros),
//  - gradient sums of a tensor with several consumers are read-modify-write,
//  - feedback magnitudes regenerated on chip from a seed are never fetched.
// Tensors are address ranges; a transfer belongs to the tensor whose range holds its first byte.
#include <cstdint>
#include <map>

#include "hw/memory_port.hpp"
#include "hw/timeline/timeline_recorder.hpp"
#include "models/dram/dram_stats.hpp"

namespace eg::hw::array {

struct TensorPolicy {
  bool reads_on_chip = false;   // the consumer finds it in the GLB
  bool writes_on_chip = false;  // the producer leaves it in the GLB only
  double gradient_ratio = 1.0;  // bytes moved / bytes asked for, for gradient-class transfers
  bool accumulate_writes = false;
  // With writes_on_chip: the sum so far is in DRAM (an earlier part of the work wrote it), so a
  // write reads it back and the new sum stays on chip (features.backward_schedule "interleaved":
  // the last δ tile's ΔW drains into the fused update, the earlier tiles' partial sum is in DRAM).
  bool partial_sum_in_dram = false;
};

class MemoryInterface : public MemoryPort {
 public:
  // `burst_bytes` only shapes the counters of what was forwarded (the ideal model's DRAM figures).
  MemoryInterface(MemoryPort& downstream, bool regenerate_feedback, uint64_t burst_bytes);

  void set_policy(uint64_t base, uint64_t bytes, const TensorPolicy& policy);
  // A range held in the GLB once fetched (features.backward_schedule "interleaved": one δ tile):
  // the first `bytes` read from it come from DRAM (through the tensor's policy, e.g. compressed),
  // every read after is served by the GLB. Tracked by quantity, not by address: the transfers'
  // addresses are approximate (a fold's filter transfer starts at its tensor's start), so the
  // tile counts as in the GLB once as many bytes as it holds have been fetched.
  void hold(uint64_t base, uint64_t bytes);
  // Bytes of reads served from held ranges (the GLB) so far.
  uint64_t served_from_hold() const { return served_from_hold_; }
  void transfer(const MemoryRequest& request) override;

  // What went downstream, in whole bursts by address alignment; no row-buffer state.
  const dram::DramStats& forwarded() const { return forwarded_; }
  // Reports every transfer that goes downstream to the run's timeline (null: none).
  void set_timeline(TimelineRecorder* timeline) { timeline_ = timeline; }

 private:
  struct Range {
    uint64_t end = 0;
    TensorPolicy policy;
  };
  const TensorPolicy* policy_of(uint64_t address) const;
  void forward(const MemoryRequest& request);

  MemoryPort& downstream_;
  bool regenerate_feedback_;
  uint64_t burst_bytes_;
  std::map<uint64_t, Range> ranges_;  // by base address
  struct Held {
    uint64_t end = 0, to_fetch = 0;
  };
  std::map<uint64_t, Held> held_;  // by base address
  uint64_t served_from_hold_ = 0;
  dram::DramStats forwarded_;
  TimelineRecorder* timeline_ = nullptr;
};

}  // namespace eg::hw::array
