#include "hw/array/ideal_memory.hpp"

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
  // The array model moves no real data off-chip (values live in the trace); the payload only
  // carries the size the memory model times.
  if (scratch_.size() < request.bytes) scratch_.resize(request.bytes);
  tlm::tlm_generic_payload payload;
  payload.set_command(request.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  payload.set_address(request.address);
  payload.set_data_ptr(scratch_.data());
  payload.set_data_length(static_cast<unsigned>(request.bytes));
  payload.set_streaming_width(static_cast<unsigned>(request.bytes));
  payload.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  socket->b_transport(payload, delay);
  wait(delay);
}

}  // namespace eg::hw::array
