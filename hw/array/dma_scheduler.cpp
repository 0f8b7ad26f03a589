#include "hw/array/dma_scheduler.hpp"

namespace eg::hw::array {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

DmaScheduler::DmaScheduler(sc_core::sc_module_name name, MemoryPort& port, sc_time clock_period,
                           bool across_problems)
    : sc_module(name), port_(port), period_(clock_period), across_problems_(across_problems) {
  SC_THREAD(run);
  SC_THREAD(worker0);
  SC_THREAD(worker1);
  static_assert(kTransfersInFlight == 2, "one SC_THREAD per worker above");
}

void DmaScheduler::append(std::vector<QueuedTransfer> transfers) {
  transfers_.insert(transfers_.end(), transfers.begin(), transfers.end());
  done_.resize(transfers_.size(), kPending);
  work_.notify(sc_core::SC_ZERO_TIME);
}

void DmaScheduler::forget_before(size_t id) {
  // Only transfers already handed out and completed go (a worker may still hold a later one).
  while (first_ < id && first_ < next_ && done_.front() != kPending) {
    transfers_.pop_front();
    done_.pop_front();
    ++first_;
  }
}

void DmaScheduler::pass_ended(int64_t pass, uint64_t cycle) {
  if (static_cast<size_t>(pass) != pass_end_.size()) return;  // passes end in order
  pass_end_.push_back(cycle);
  work_.notify(sc_core::SC_ZERO_TIME);
}

void DmaScheduler::run() {
  for (;;) {
    while (next_ >= end()) wait(work_);
    // By value: append() may grow the list while this thread waits.
    const int64_t after_pass = transfers_[next_ - first_].after_pass;
    if (after_pass >= 0) {
      while (pass_end_.size() <= static_cast<size_t>(after_pass)) wait(work_);
      const sc_time when = at(pass_end_[static_cast<size_t>(after_pass)]);
      if (when > sc_time_stamp()) wait(when - sc_time_stamp());
    }
    Worker* idle = nullptr;
    for (;;) {
      for (Worker& w : workers_)
        if (w.task == SIZE_MAX) idle = &w;
      if (idle) break;
      wait(completed_);
    }
    if (error_) {
      next_ = end();
      continue;
    }
    idle->task = next_++;
    idle->start.notify(sc_core::SC_ZERO_TIME);
  }
}

void DmaScheduler::worker(size_t w) {
  Worker& me = workers_[w];
  for (;;) {
    while (me.task == SIZE_MAX) wait(me.start);
    try {
      // By value: the list may grow meanwhile.
      const MemoryRequest request = transfers_[me.task - first_].request;
      port_.transfer(request);
      // Usable from the first array cycle that starts at or after the last byte.
      const uint64_t ps = sc_time_stamp().value(), period = period_.value();
      done_of(me.task) = (ps + period - 1) / period;
    } catch (...) {
      error_ = std::current_exception();
    }
    me.task = SIZE_MAX;
    completed_.notify(sc_core::SC_ZERO_TIME);
  }
}

std::optional<uint64_t> DmaScheduler::done_by(size_t id, uint64_t cycle) {
  rethrow();
  // A cycle SystemC time cannot hold (a quiet array's "not before the data arrives" is near 2^62
  // cycles) means: wait for the completion itself.
  const uint64_t last_cycle = sc_core::sc_max_time().value() / period_.value() - 1;
  if (cycle >= last_cycle) {
    const uint64_t c = completion(id);
    return c <= cycle ? std::optional<uint64_t>(c) : std::nullopt;
  }
  // Waiting until just past the start of `cycle` lets every transfer that completes at or before
  // it be recorded first, whatever the order of processes within one instant.
  const sc_time limit = at(cycle) + sc_core::sc_get_time_resolution();
  while (done_of(id) == kPending && !error_ && sc_time_stamp() < limit)
    wait(limit - sc_time_stamp(), completed_);
  rethrow();
  const uint64_t c = done_of(id);
  return c != kPending && c <= cycle ? std::optional<uint64_t>(c) : std::nullopt;
}

uint64_t DmaScheduler::completion(size_t id) {
  while (done_of(id) == kPending && !error_) wait(completed_);
  rethrow();
  return done_of(id);
}

}  // namespace eg::hw::array
