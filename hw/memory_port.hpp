#pragma once
// The boundary between the on-chip array (controller, GLB) and off-chip memory. The array's
// controller threads call transfer() from an SC_THREAD; it returns when the data has moved, having
// advanced simulated time. Implementations: an ideal fixed-latency/bandwidth memory (array tests)
// and the DMA engine in front of the TLM-2.0 LPDDR4 model.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace eg::hw {

// What a transfer carries, so DRAM traffic can be reported by class (docs/DESIGN.md §7).
enum class DataClass { Activations, Weights, Feedback, Gradients, WeightGradients, Momentum };
inline constexpr int kDataClassCount = 6;
inline const char* to_string(DataClass c) {
  switch (c) {
    case DataClass::Activations:
      return "activations";
    case DataClass::Weights:
      return "weights";
    case DataClass::Feedback:
      return "feedback";
    case DataClass::Gradients:
      return "gradients";
    case DataClass::WeightGradients:
      return "weight_gradients";
    case DataClass::Momentum:
      return "momentum";
  }
  return "?";
}

// One contiguous run of a gather transfer.
struct MemoryRun {
  uint64_t address = 0, bytes = 0;
};

struct MemoryRequest {
  bool write = false;
  uint64_t address = 0;  // byte address in the accelerator's DRAM address space
  uint64_t bytes = 0;    // bytes actually moved (already compressed where compression applies)
  DataClass data_class = DataClass::Activations;
  // A gather: the transfer moves these runs, in order, each on its own (its own burst or bursts:
  // a run never shares a burst with the next one), instead of one range. `address` is then the
  // first run's and `bytes` their sum. Null: the single range [address, address + bytes).
  std::shared_ptr<const std::vector<MemoryRun>> runs{};
};

// Calls f(address, bytes) for each contiguous run of `r`.
template <class F>
void for_each_run(const MemoryRequest& r, F f) {
  if (!r.runs) return f(r.address, r.bytes);
  for (const MemoryRun& run : *r.runs)
    if (run.bytes > 0) f(run.address, run.bytes);
}

class MemoryPort {
 public:
  virtual ~MemoryPort() = default;
  // Blocking in simulated time: call from an SC_THREAD; returns when the last byte has moved.
  virtual void transfer(const MemoryRequest& request) = 0;
};

}  // namespace eg::hw
