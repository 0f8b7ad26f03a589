#pragma once
// The DMA queue (accelerator.dmaq, docs/DESIGN.md §5.6): a dispatcher SC_THREAD hands the run's
// transfers (one stream, problem after problem), in schedule order (per pass: its input rows, its
// filter sets fold by fold; after a pass, its output tile), to kTransfersInFlight worker threads
// that call the memory port, each no earlier than the end of the pass whose buffer it needs. That
// gate is the back-pressure: with glb.iact_buffers B, pass i's inputs wait for pass i - B to end,
// so the DMA runs at most B passes ahead of the array. Each transfer's completion cycle is recorded
// and announced with an event; the array thread waits on it only when the array's own cycle has
// reached a transfer that is not complete.
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <systemc>

#include "hw/array/transfer_queue.hpp"
#include "hw/described.hpp"

namespace eg::hw::array {

class DmaScheduler : public sc_core::sc_module, public TransferQueue, public Described {
 public:
  // Transfers the DMA works on at once: two, so that the next one streams while the last bursts of
  // the one before are in flight and a transfer's latency is hidden behind the next one's data.
  // Each keeps up to the DMA engine's dma_max_outstanding bursts in flight (the DRAM channel's
  // request queue bounds the total); more would only let later prefetches take bandwidth from the
  // transfer the array needs first.
  static constexpr int kTransfersInFlight = 2;

  SC_HAS_PROCESS(DmaScheduler);
  // `clock_period`: the array's; completion cycles are in array cycles. `across_problems`
  // (features.cross_layer_prefetch) only names what the array engine hands over: the next
  // problem's first passes at the end of a problem's list.
  DmaScheduler(sc_core::sc_module_name name, MemoryPort& port, sc_core::sc_time clock_period,
               bool across_problems = false);
  const char* kind() const override { return "DmaScheduler"; }
  Parameters parameters() const override {
    return {{"order", "schedule"},
            {"transfers_in_flight", std::to_string(kTransfersInFlight)},
            {"prefetch_across_problems", across_problems_ ? "on" : "off"}};
  }

  void append(std::vector<QueuedTransfer> transfers) override;
  void pass_ended(int64_t pass, uint64_t cycle) override;
  std::optional<uint64_t> done_by(size_t id, uint64_t cycle) override;
  uint64_t completion(size_t id) override;
  void forget_before(size_t id) override;

 private:
  static constexpr uint64_t kPending = UINT64_MAX;
  void run();  // the dispatcher
  void worker(size_t w);
  void worker0() { worker(0); }
  void worker1() { worker(1); }
  sc_core::sc_time at(uint64_t cycle) const { return period_ * static_cast<double>(cycle); }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

  MemoryPort& port_;
  sc_core::sc_time period_;
  bool across_problems_;
  // Transfers from id first_ on (those before were forgotten): the request and the completion
  // cycle (kPending until then) of transfer id at index id - first_.
  std::deque<QueuedTransfer> transfers_;
  std::deque<uint64_t> done_;
  size_t first_ = 0;
  size_t next_ = 0;  // next transfer (id) to hand to a worker
  size_t end() const { return first_ + transfers_.size(); }
  uint64_t& done_of(size_t id) {
    if (id < first_ || id >= end())
      throw std::logic_error("DMA queue: transfer " + std::to_string(id) + " is not held");
    return done_[id - first_];
  }
  struct Worker {
    size_t task = SIZE_MAX;  // transfer it is making (SIZE_MAX: idle)
    sc_core::sc_event start;
  };
  Worker workers_[kTransfersInFlight];
  std::vector<uint64_t> pass_end_;
  sc_core::sc_event work_, completed_;
  std::exception_ptr error_;  // a failed transfer, rethrown in the array's thread
};

}  // namespace eg::hw::array
