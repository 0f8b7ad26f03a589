#include "hw/array/ideal_memory.hpp"

#include <algorithm>
#include <cmath>

namespace eg::hw::array {

IdealMemory::IdealMemory(sc_core::sc_module_name name, const arch::OffchipConfig& config,
                         sc_core::sc_time clock_period)
    : sc_module(name), socket("socket"), config_(config), period_(clock_period) {
  socket.register_b_transport(this, &IdealMemory::b_transport);
}

void IdealMemory::b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  const sc_core::sc_time arrival = sc_core::sc_time_stamp() + delay;
  const sc_core::sc_time start = arrival > busy_until_ ? arrival : busy_until_;
  const double cycles =
      std::ceil(static_cast<double>(payload.get_data_length()) / config_.bytes_per_cycle);
  busy_until_ = start + period_ * cycles;
  if (timeline_)
    timeline_->dram_bus(payload.is_write(), start, busy_until_, payload.get_data_length());
  const sc_core::sc_time done = busy_until_ + period_ * static_cast<double>(config_.latency_cycles);
  delay = done - sc_core::sc_time_stamp();
  payload.set_response_status(tlm::TLM_OK_RESPONSE);
}

TlmMemoryPort::TlmMemoryPort(sc_core::sc_module_name name) : sc_module(name), socket("socket") {}

void TlmMemoryPort::transfer(const MemoryRequest& request) {
  if (request.bytes == 0) return;
  // The array model moves no real data off-chip (values live in the trace); the payloads only
  // carry the sizes the memory model times. A TLM payload's length is 32 bits, so a transfer is
  // split into payloads of at most kMaxPayloadBytes, all sent at once (the memory serialises
  // them); the transfer is done when the last one is.
  // A gather sends each of its runs as payloads of its own.
  const uint64_t chunk = std::min<uint64_t>(request.bytes, kMaxPayloadBytes);
  if (scratch_.size() < chunk) scratch_.resize(chunk);
  sc_core::sc_time done = sc_core::SC_ZERO_TIME;
  for_each_run(request, [&](uint64_t first, uint64_t bytes) {
    for (uint64_t offset = 0; offset < bytes; offset += chunk) {
      const unsigned length = static_cast<unsigned>(std::min(chunk, bytes - offset));
      tlm::tlm_generic_payload payload;
      payload.set_command(request.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
      payload.set_address(first + offset);
      payload.set_data_ptr(scratch_.data());
      payload.set_data_length(length);
      payload.set_streaming_width(length);
      payload.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      socket->b_transport(payload, delay);
      if (delay > done) done = delay;
    }
  });
  wait(done);
}

}  // namespace eg::hw::array
