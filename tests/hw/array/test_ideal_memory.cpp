// The ideal off-chip model behind the TLM memory port (docs/DESIGN.md §5.10): a transfer holds the
// memory ceil(bytes / bytes_per_cycle) cycles per payload and completes latency_cycles later. A
// TLM payload's length is 32-bit, so the port splits larger transfers into payloads of
// TlmMemoryPort::kMaxPayloadBytes; a transfer of 4 GiB or more must not lose its upper bits.
#include <catch2/catch.hpp>

#include <cstdint>

#include "hw/array/ideal_memory.hpp"
#include "hw/sim_context.hpp"
#include "models/arch/arch_config.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

class Bench : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Bench);
  Bench(sc_core::sc_module_name name, const arch::OffchipConfig& cfg, uint64_t bytes)
      : sc_module(name),
        memory_("memory", cfg, sc_core::sc_time(1, sc_core::SC_NS)),
        port_("port"),
        bytes_(bytes) {
    port_.socket.bind(memory_.socket);
    SC_THREAD(run);
  }
  uint64_t done_ns = 0;

 private:
  void run() {
    hw::MemoryRequest r;
    r.bytes = bytes_;
    r.address = 0;
    port_.transfer(r);
    done_ns = static_cast<uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9 + 0.5);
  }
  IdealMemory memory_;
  TlmMemoryPort port_;
  uint64_t bytes_;
};

uint64_t transfer_cycles(uint64_t bytes, double bytes_per_cycle, int64_t latency) {
  arch::OffchipConfig cfg;
  cfg.model = arch::OffchipModel::Ideal;
  cfg.bytes_per_cycle = bytes_per_cycle;
  cfg.latency_cycles = latency;
  hw::SimContext context;
  Bench bench("bench", cfg, bytes);
  context.start();
  return bench.done_ns;
}

}  // namespace

TEST_CASE("An ideal-memory transfer takes its bytes over the bandwidth plus the latency",
          "[array][memory]") {
  // 1000 bytes at 64 B/cycle: ceil(15.6) = 16 cycles on the bus, then 30 cycles of latency.
  CHECK(transfer_cycles(1000, 64, 30) == 16 + 30);
}

TEST_CASE("A transfer of 4 GiB or more keeps its size through the 32-bit TLM payloads",
          "[array][memory]") {
  // 5 GiB at 1 MiB a cycle: 5120 payloads of 1 MiB, one cycle each, then 7 cycles of latency.
  // Cut to 32 bits the size would be 1 GiB (1024 cycles).
  const uint64_t five_gib = uint64_t{5} << 30;
  CHECK(transfer_cycles(five_gib, 1 << 20, 7) == 5120 + 7);
  // Payloads are rounded to whole cycles each: 3 MiB + 1 byte at 1 MiB a cycle is 3 payloads
  // of one cycle and one of a single byte, also one cycle.
  CHECK(transfer_cycles((uint64_t{3} << 20) + 1, 1 << 20, 0) == 4);
}
