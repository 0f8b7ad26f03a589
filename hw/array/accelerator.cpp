#include "hw/array/accelerator.hpp"

namespace eg::hw::array {

Accelerator::Accelerator(sc_core::sc_module_name name, const arch::ArchConfig& config,
                         const trace::Trace& trace, RunOptions options)
    : sc_module(name),
      config_(config),
      trace_(trace),
      options_(std::move(options)),
      period_(1.0 / config.clock_mhz, sc_core::SC_US),
      memory_("memory", config.offchip, period_),
      port_("port"),
      controller_(config, port_, *this) {
  port_.socket.bind(memory_.socket);
  SC_THREAD(main_thread);
}

uint64_t Accelerator::now_cycles() const {
  return static_cast<uint64_t>(sc_core::sc_time_stamp().value() / period_.value());
}

void Accelerator::wait_until(uint64_t cycle) {
  const uint64_t now = now_cycles();
  if (cycle > now) wait(period_ * static_cast<double>(cycle - now));
}

void Accelerator::main_thread() {
  try {
    result = controller_.run(trace_, options_);
  } catch (...) {
    error = std::current_exception();
  }
  // No sc_stop(): with nothing left to do, sc_start() returns by itself.
}

RunResult simulate(const arch::ArchConfig& config, const trace::Trace& trace,
                   const RunOptions& options) {
  // A fresh kernel context per simulation: SystemC 2.3 cannot elaborate again after sc_stop.
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  Accelerator top("egsim", config, trace, options);
  sc_core::sc_start();
  if (top.error) std::rethrow_exception(top.error);
  return std::move(top.result);
}

}  // namespace eg::hw::array
