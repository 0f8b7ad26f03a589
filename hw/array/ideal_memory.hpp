#pragma once
#include <sstream>
#include <string>

#include "hw/described.hpp"
// Off-chip memory for the array until the LPDDR4 model replaces it: a TLM-2.0 target with a fixed
// latency and a fixed bandwidth (transfers queue behind each other), and the MemoryPort the
// controller calls, a TLM initiator that blocks the calling SC_THREAD until the data has moved.
#include <cstdint>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/memory_port.hpp"
#include "hw/timeline/timeline_recorder.hpp"
#include "models/arch/arch_config.hpp"

namespace eg::hw::array {

class IdealMemory : public sc_core::sc_module, public Described {
 public:
  const char* kind() const override { return "IdealMemory"; }
  Parameters parameters() const override {
    std::ostringstream bw;
    bw << config_.bytes_per_cycle;
    return {{"latency_cycles", std::to_string(config_.latency_cycles)},
            {"bytes_per_cycle", bw.str()}};
  }
  tlm_utils::simple_target_socket<IdealMemory> socket;
  IdealMemory(sc_core::sc_module_name name, const arch::OffchipConfig& config,
              sc_core::sc_time clock_period);
  // Reports each transfer's time on the memory bus to the run's timeline (null: none).
  void set_timeline(TimelineRecorder* timeline) { timeline_ = timeline; }

 private:
  void b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);
  const arch::OffchipConfig config_;
  sc_core::sc_time period_;
  sc_core::sc_time busy_until_ = sc_core::SC_ZERO_TIME;
  TimelineRecorder* timeline_ = nullptr;
};

class TlmMemoryPort : public sc_core::sc_module, public MemoryPort {
 public:
  tlm_utils::simple_initiator_socket<TlmMemoryPort> socket;
  explicit TlmMemoryPort(sc_core::sc_module_name name);
  void transfer(const MemoryRequest& request) override;
  // Bytes of one TLM payload: a transfer larger than this is split (payload lengths are 32-bit;
  // 1 MiB also bounds the scratch buffer the payloads point at). Each payload is rounded to whole
  // cycles by the ideal memory on its own.
  static constexpr uint64_t kMaxPayloadBytes = uint64_t{1} << 20;

 private:
  std::vector<unsigned char> scratch_;
};

}  // namespace eg::hw::array
