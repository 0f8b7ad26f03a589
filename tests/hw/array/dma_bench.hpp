#pragma once
// The array engine with the DMA queue (DmaScheduler) in front of the ideal memory, in a SystemC
// context: the engine's clock is simulated time. `body` runs in the bench's thread.
#include <functional>

#include <systemc>

#include "hw/array/array_engine.hpp"
#include "hw/array/dma_scheduler.hpp"
#include "hw/array/ideal_memory.hpp"
#include "models/arch/arch_config.hpp"

namespace eg::hw::array::bench {

class Bench : public sc_core::sc_module, public SimClock {
 public:
  SC_HAS_PROCESS(Bench);
  Bench(sc_core::sc_module_name name, const arch::ArchConfig& cfg, std::function<void(Bench&)> body)
      : sc_module(name),
        period_(1.0 / cfg.clock_mhz, sc_core::SC_US),
        memory_("memory", cfg.offchip, period_),
        port_("port"),
        dmaq_("dmaq", port_, period_),
        engine(cfg, port_, *this, &dmaq_),
        body_(std::move(body)) {
    port_.socket.bind(memory_.socket);
    SC_THREAD(run);
  }
  uint64_t now_cycles() const override {
    return static_cast<uint64_t>(sc_core::sc_time_stamp().value() / period_.value());
  }
  void wait_until(uint64_t cycle) override {
    const sc_core::sc_time t = period_ * static_cast<double>(cycle);
    if (t > sc_core::sc_time_stamp()) wait(t - sc_core::sc_time_stamp());
  }

 private:
  sc_core::sc_time period_;
  IdealMemory memory_;
  TlmMemoryPort port_;
  DmaScheduler dmaq_;

 public:
  ArrayEngine engine;

 private:
  void run() { body_(*this); }
  std::function<void(Bench&)> body_;
};

}  // namespace eg::hw::array::bench
