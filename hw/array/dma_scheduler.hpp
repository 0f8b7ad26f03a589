#pragma once
// The DMA queue (accelerator.dmaq, docs/DESIGN.md §5.6): one SC_THREAD issues a problem's
// transfers through the memory port in schedule order (per pass: its input rows, its filter sets
// fold by fold; after a pass, its output tile), each no earlier than the end of the pass whose
// buffer it needs. That gate is the back-pressure: with glb.iact_buffers B, pass i's inputs wait
// for pass i - B to end, so the DMA runs at most B passes ahead of the array. Each transfer's
// completion cycle is recorded and announced with an event; the array thread waits on it only
// when the array's own cycle has reached a transfer that is not complete.
#include <exception>
#include <optional>
#include <vector>

#include <systemc>

#include "hw/array/transfer_queue.hpp"
#include "hw/described.hpp"

namespace eg::hw::array {

class DmaScheduler : public sc_core::sc_module, public TransferQueue, public Described {
 public:
  SC_HAS_PROCESS(DmaScheduler);
  // `clock_period`: the array's; completion cycles are in array cycles.
  DmaScheduler(sc_core::sc_module_name name, MemoryPort& port, sc_core::sc_time clock_period);
  const char* kind() const override { return "DmaScheduler"; }
  Parameters parameters() const override { return {{"order", "schedule"}}; }

  void begin(std::vector<QueuedTransfer> transfers) override;
  void pass_ended(int64_t pass, uint64_t cycle) override;
  std::optional<uint64_t> done_by(size_t id, uint64_t cycle) override;
  uint64_t completion(size_t id) override;

 private:
  static constexpr uint64_t kPending = UINT64_MAX;
  void run();
  sc_core::sc_time at(uint64_t cycle) const { return period_ * static_cast<double>(cycle); }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

  MemoryPort& port_;
  sc_core::sc_time period_;
  std::vector<QueuedTransfer> transfers_;
  std::vector<uint64_t> done_;  // completion cycle per transfer, kPending until then
  size_t next_ = 0;             // next transfer to issue
  std::vector<uint64_t> pass_end_;
  sc_core::sc_event work_, completed_;
  std::exception_ptr error_;  // a failed transfer, rethrown in the array's thread
};

}  // namespace eg::hw::array
