// Benchmark of the LPDDR4 model: single-access latencies (row empty, hit, conflict), streaming read
// bandwidth against the configured peak and against the refresh ceiling peak x (1 - tRFCab/tREFI),
// a read stream and a write stream sharing the channel (bus turnaround), and model speed
// (simulated bursts per host second).
// Usage: egsim_bench_dram CONFIG.json [STREAM_MIB]
#define SC_INCLUDE_DYNAMIC_PROCESSES  // sc_spawn: the write stream runs beside the read stream
#include <systemc>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "base/error.hpp"
#include "hw/dram/dma_engine.hpp"
#include "hw/dram/lpddr4_channel.hpp"
#include "models/dram/dram_config.hpp"

namespace {

struct Driver : sc_core::sc_module {
  std::function<void()> body;
  SC_HAS_PROCESS(Driver);
  Driver(sc_core::sc_module_name name, std::function<void()> b)
      : sc_module(name), body(std::move(b)) {
    SC_THREAD(run);
  }
  void run() {
    body();
    sc_core::sc_stop();
  }
};

}  // namespace

int sc_main(int argc, char* argv[]) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CONFIG.json [STREAM_MIB]\n", argv[0]);
    return 2;
  }
  try {
    const eg::dram::DramConfig config = eg::dram::load_dram_config(argv[1]);
    const uint64_t stream_bytes = (argc > 2 ? std::stoull(argv[2]) : 256) << 20;
    eg::hw::Lpddr4Channel dram("dram", config);
    eg::hw::DmaEngine dma("dma", {config.burst_bytes(), config.dma_max_outstanding});
    dma.socket.bind(dram.socket);

    double empty_ns = 0, hit_ns = 0, conflict_ns = 0, stream_s = 0, mixed_s = 0;
    uint64_t stream_refreshes = 0;
    const uint64_t mixed_bytes = stream_bytes / 4;  // per direction
    auto timed = [&](const eg::hw::MemoryRequest& r) {
      sc_core::sc_time start = sc_core::sc_time_stamp();
      dma.transfer(r);
      return (sc_core::sc_time_stamp() - start).to_seconds() * 1e9;
    };
    Driver driver("driver", [&] {
      const auto& map = dram.mapping();
      const uint64_t row0 = map.encode({0, 0, 0}), row1 = map.encode({1, 0, 0});
      const uint64_t burst = config.burst_bytes();
      empty_ns = timed({false, row0, burst, eg::hw::DataClass::Weights});
      hit_ns = timed({false, row0 + burst, burst, eg::hw::DataClass::Weights});
      sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));  // let tRAS elapse
      conflict_ns = timed({false, row1, burst, eg::hw::DataClass::Weights});
      sc_core::sc_time start = sc_core::sc_time_stamp();
      const uint64_t refreshes_before = dram.stats().refreshes;
      dma.transfer({false, 1 << 20, stream_bytes, eg::hw::DataClass::Activations});
      stream_s = (sc_core::sc_time_stamp() - start).to_seconds();
      stream_refreshes = dram.stats().refreshes - refreshes_before;
      // A read stream and a write stream at once, as when a layer's outputs drain while its
      // inputs fill: the two share the data bus and pay its turnaround at every switch.
      start = sc_core::sc_time_stamp();
      sc_core::sc_event write_done;
      sc_core::sc_spawn([&] {
        dma.transfer({true, (1 << 20) + stream_bytes, mixed_bytes, eg::hw::DataClass::Gradients});
        write_done.notify();
      });
      dma.transfer({false, 1 << 20, mixed_bytes, eg::hw::DataClass::Activations});
      sc_core::wait(write_done);
      mixed_s = (sc_core::sc_time_stamp() - start).to_seconds();
    });
    auto host_start = std::chrono::steady_clock::now();
    sc_core::sc_start();
    double host_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();

    const auto& t = dram.timing();
    const auto& s = dram.stats().total;
    std::printf("config: %s, tCK %.3f ns, burst %llu B, peak %.2f GB/s\n", argv[1],
                t.clock_period_ps / 1000.0, static_cast<unsigned long long>(config.burst_bytes()),
                config.peak_bandwidth_bytes_per_s() / 1e9);
    std::printf("latency row empty (tRCD+RL+BL/2): %.3f ns\n", empty_ns);
    std::printf("latency row hit (RL+BL/2): %.3f ns\n", hit_ns);
    std::printf("latency row conflict (tRP+tRCD+RL+BL/2): %.3f ns\n", conflict_ns);
    const double peak = config.peak_bandwidth_bytes_per_s();
    std::printf("streaming read of %llu MiB: %.4f GB/s = %.4f %% of peak (%llu refreshes)\n",
                static_cast<unsigned long long>(stream_bytes >> 20), stream_bytes / stream_s / 1e9,
                100.0 * stream_bytes / stream_s / peak,
                static_cast<unsigned long long>(stream_refreshes));
    std::printf("refresh ceiling peak x (1 - tRFCab/tREFI) = %.4f GB/s = %.4f %% of peak\n",
                peak * (1.0 - double(t.tRFCab) / t.tREFI) / 1e9,
                100.0 * (1.0 - double(t.tRFCab) / t.tREFI));
    std::printf("read and write streams of %llu MiB each at once: %.4f GB/s = %.4f %% of peak\n",
                static_cast<unsigned long long>(mixed_bytes >> 20), 2 * mixed_bytes / mixed_s / 1e9,
                100.0 * 2 * mixed_bytes / mixed_s / peak);
    std::printf(
        "counters: bursts %llu, activates %llu, row hits %llu, row misses %llu, refreshes %llu\n",
        static_cast<unsigned long long>(s.bursts()), static_cast<unsigned long long>(s.activates),
        static_cast<unsigned long long>(s.row_hits), static_cast<unsigned long long>(s.row_misses),
        static_cast<unsigned long long>(dram.stats().refreshes));
    std::printf("model speed: %.3f M bursts/host-s = %.1f MB simulated/host-s (host %.2f s)\n",
                s.bursts() / host_s / 1e6, s.bursts() * config.burst_bytes() / host_s / 1e6,
                host_s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
