#pragma once
// The SystemC top: one SC_THREAD runs the controller, which ticks the clusters as plain C++ objects
// and synchronises with SystemC time only around off-chip transfers and at pass ends; off-chip
// memory sits behind a TLM-2.0 socket (an IdealMemory here; the LPDDR4 model plugs in the same
// way).
#include <exception>
#include <memory>

#include <systemc>

#include "hw/array/controller.hpp"
#include "hw/array/ideal_memory.hpp"

namespace eg::hw::array {

class Accelerator : public sc_core::sc_module, public SimClock {
 public:
  SC_HAS_PROCESS(Accelerator);
  Accelerator(sc_core::sc_module_name name, const arch::ArchConfig& config,
              const trace::Trace& trace, RunOptions options);

  uint64_t now_cycles() const override;
  void wait_until(uint64_t cycle) override;

  RunResult result;
  std::exception_ptr error;  // set when the run failed; rethrown by simulate()

 private:
  void main_thread();
  const arch::ArchConfig& config_;
  const trace::Trace& trace_;
  RunOptions options_;
  sc_core::sc_time period_;
  IdealMemory memory_;
  TlmMemoryPort port_;
  Controller controller_;
};

// Elaborates a fresh SystemC context, runs the whole trace and returns its figures; throws
// eg::Error on any failure (bad trace, unmappable layer, functional mismatch).
RunResult simulate(const arch::ArchConfig& config, const trace::Trace& trace,
                   const RunOptions& options);

}  // namespace eg::hw::array
