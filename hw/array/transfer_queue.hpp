#pragma once
// The DMA side of the array's off-chip traffic (docs/DESIGN.md §5.6): the run's transfers, problem
// after problem in schedule order (with cross_layer_prefetch, the next problem's first passes
// behind the current one's), each issued no earlier than the end of the pass whose buffer it
// needs, and the cycle each completes. The array engine runs ahead of simulated time and asks, when
// a pass or a fold needs a transfer, whether it has completed by the array's cycle.
//
// Implementations: DmaScheduler (dma_scheduler.hpp), an SC_THREAD that prefetches in simulated
// time, and InlineTransferQueue below, for engine tests that run without the SystemC kernel.
#include <cstdint>
#include <optional>
#include <vector>

#include "base/error.hpp"
#include "hw/array/sim_clock.hpp"
#include "hw/memory_port.hpp"

namespace eg::hw::array {

struct QueuedTransfer {
  MemoryRequest request;
  int64_t after_pass = -1;  // issued no earlier than the end of this pass (-1: at once)
};

class TransferQueue {
 public:
  virtual ~TransferQueue() = default;
  // Appends a problem's transfers to the run's one stream, issued one after another in this order
  // after those appended before (which may still be in flight: the next problem's first passes,
  // prefetched). Transfer ids and pass numbers count over the whole run, from 0.
  virtual void append(std::vector<QueuedTransfer> transfers) = 0;
  // The array finished pass `pass` (passes end in order, from 0) at array cycle `cycle`.
  virtual void pass_ended(int64_t pass, uint64_t cycle) = 0;
  // The cycle transfer `id` completed (its data usable from that cycle on) if that is at or before
  // `cycle`, else nothing. Finding out may advance simulated time to just past the start of
  // `cycle`, or to the transfer's completion if that comes first.
  virtual std::optional<uint64_t> done_by(size_t id, uint64_t cycle) = 0;
  // The cycle transfer `id` completes, waiting for it as long as needed.
  virtual uint64_t completion(size_t id) = 0;
  // No transfer before `id` is asked about again: a queue may free what it keeps of those that
  // have completed, so a long run's memory does not grow with its transfers.
  virtual void forget_before(size_t id) { (void)id; }
};

// Without a SystemC kernel: a transfer is made, blocking on the port from the clock's current
// cycle (no earlier than its pass's end), when the array first asks about it or a later one. No
// prefetch; for tests of values and accounting with a SimClock of their own.
class InlineTransferQueue : public TransferQueue {
 public:
  InlineTransferQueue(MemoryPort& port, SimClock& clock) : port_(port), clock_(clock) {}
  void append(std::vector<QueuedTransfer> transfers) override {
    transfers_.insert(transfers_.end(), transfers.begin(), transfers.end());
    done_.resize(transfers_.size(), 0);
  }
  void pass_ended(int64_t, uint64_t cycle) override { pass_end_.push_back(cycle); }
  std::optional<uint64_t> done_by(size_t id, uint64_t cycle) override {
    const uint64_t c = completion(id);
    return c <= cycle ? std::optional<uint64_t>(c) : std::nullopt;
  }
  uint64_t completion(size_t id) override {
    for (; next_ <= id; ++next_) {
      const QueuedTransfer& t = transfers_.at(next_);
      if (t.after_pass >= 0) {
        if (static_cast<size_t>(t.after_pass) >= pass_end_.size())
          throw Error("array: a transfer waits for pass " + std::to_string(t.after_pass) +
                      ", which has not ended");
        clock_.wait_until(pass_end_[static_cast<size_t>(t.after_pass)]);
      }
      port_.transfer(t.request);
      done_[next_] = clock_.now_cycles();
    }
    return done_[id];
  }

 private:
  MemoryPort& port_;
  SimClock& clock_;
  std::vector<QueuedTransfer> transfers_;
  std::vector<uint64_t> done_, pass_end_;
  size_t next_ = 0;
};

}  // namespace eg::hw::array
