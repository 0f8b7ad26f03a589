#pragma once
// The SystemC top: one SC_THREAD runs the controller, which ticks the clusters as plain C++ objects
// and synchronises with SystemC time only around off-chip transfers and at pass ends. Off-chip
// memory sits behind a TLM-2.0 socket: the DMA engine in front of the LPDDR4 channel (its own
// clock), or the fixed-latency IdealMemory (offchip.model "ideal", for unit tests). Between the
// controller and either sits the MemoryInterface that applies the schedule's traffic decisions.
#include <exception>
#include <memory>
#include <string>

#include <systemc>

#include "hw/array/controller.hpp"
#include "hw/array/dma_scheduler.hpp"
#include "hw/array/ideal_memory.hpp"
#include "hw/array/memory_interface.hpp"
#include "hw/dram/dma_engine.hpp"
#include "hw/dram/lpddr4_channel.hpp"

namespace eg::hw::array {

class Accelerator : public sc_core::sc_module, public SimClock, public Described {
 public:
  SC_HAS_PROCESS(Accelerator);
  // With no trace the accelerator is only elaborated (egsim describe): its thread does nothing.
  Accelerator(sc_core::sc_module_name name, const arch::ArchConfig& config,
              const trace::Trace* trace, RunOptions options);
  const char* kind() const override { return "Accelerator"; }
  Parameters parameters() const override;

  uint64_t now_cycles() const override;
  void wait_until(uint64_t cycle) override;

  RunResult result;
  std::exception_ptr error;  // set when the run failed; rethrown by simulate()

 private:
  void main_thread();
  MemoryPort& build_memory();
  dram::DramStats dram_stats() const;

  const arch::ArchConfig& config_;
  const trace::Trace* trace_;
  RunOptions options_;
  sc_core::sc_time period_;
  // offchip.model "ideal"
  std::unique_ptr<IdealMemory> ideal_;
  std::unique_ptr<TlmMemoryPort> ideal_port_;
  // offchip.model "lpddr4"
  std::unique_ptr<Lpddr4Channel> dram_;
  std::unique_ptr<DmaEngine> dma_;
  MemoryInterface interface_;
  // accelerator.dmaq: the array's prefetch and drain queue, in front of the memory interface.
  std::unique_ptr<DmaScheduler> dmaq_;
  Controller controller_;
};

// Elaborates a fresh SystemC context, runs the whole trace and returns its figures; throws
// eg::Error on any failure (bad trace, unmappable layer, functional mismatch, config whose
// referenced files were not loaded).
RunResult simulate(const arch::ArchConfig& config, const trace::Trace& trace,
                   const RunOptions& options);

// The hierarchy `config` elaborates, one module a line with its parameters (egsim describe).
std::string describe(const arch::ArchConfig& config);

}  // namespace eg::hw::array
