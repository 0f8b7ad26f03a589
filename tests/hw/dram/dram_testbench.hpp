#pragma once
// A DMA engine bound to an LPDDR4 channel, and a thread that runs a test body then stops the
// simulation. Each test elaborates afresh in a new SystemC context (an eg::hw::SimContext declared
// before the modules).
#include <systemc>

#include <functional>

#include "hw/dram/dma_engine.hpp"
#include "hw/dram/lpddr4_channel.hpp"
#include "hw/sim_context.hpp"
#include "models/dram/dram_config.hpp"

namespace eg::testing {

struct DramBench : sc_core::sc_module {
  eg::hw::Lpddr4Channel dram;
  eg::hw::DmaEngine dma;
  std::function<void()> body;

  SC_HAS_PROCESS(DramBench);
  DramBench(const eg::dram::DramConfig& config, std::function<void()> b)
      : sc_module("bench"),
        dram("dram", config),
        dma("dma", {config.burst_bytes(), config.dma_max_outstanding}),
        body(std::move(b)) {
    dma.socket.bind(dram.socket);
    SC_THREAD(run);
  }
  void run() {
    body();
    sc_core::sc_stop();
  }
};

// Time a transfer() takes, in DRAM clock cycles.
inline uint64_t timed_cycles(eg::hw::DmaEngine& dma, const eg::hw::Lpddr4Channel& dram,
                             const eg::hw::MemoryRequest& request) {
  const sc_core::sc_time start = sc_core::sc_time_stamp();
  dma.transfer(request);
  const sc_core::sc_time took = sc_core::sc_time_stamp() - start;
  return took.value() / dram.clock_period().value();
}

}  // namespace eg::testing
