// The LPDDR4 channel's timing against the configured parameters (via the DMA engine, which adds no
// latency of its own), its counters, and FR-FCFS ordering (via a raw TLM initiator).
#include <tlm_utils/simple_initiator_socket.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <vector>

#include "base/error.hpp"
#include "dram_testbench.hpp"
#include "hw/dram/data_class_extension.hpp"
#include "models/dram/dram_stats_json.hpp"
#include "models/json_fields.hpp"

using eg::hw::DataClass;
using eg::hw::MemoryRequest;
using eg::testing::DramBench;
using eg::testing::timed_cycles;

namespace {

nlohmann::json default_config_json() {
  return eg::load_json_file(EGSIM_SOURCE_DIR "/configs/dram/lpddr4_3200_x32.json");
}

eg::dram::DramConfig default_config() {
  return eg::dram::parse_dram_config(default_config_json(), "lpddr4_3200_x32.json");
}

}  // namespace

TEST_CASE("row empty, row hit and row conflict take exactly the configured latencies") {
  eg::hw::SimContext context;
  const auto config = default_config();
  uint64_t empty = 0, hit = 0, conflict = 0, write_hit = 0;
  DramBench* bench = nullptr;
  DramBench b(config, [&] {
    const auto& map = bench->dram.mapping();
    const uint64_t burst = config.burst_bytes();
    empty = timed_cycles(bench->dma, bench->dram, {false, map.encode({5, 3, 0}), burst});
    hit = timed_cycles(bench->dma, bench->dram, {false, map.encode({5, 3, 7}), burst});
    write_hit = timed_cycles(bench->dma, bench->dram, {true, map.encode({5, 3, 9}), burst});
    sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));  // tRAS and tWR long past
    conflict = timed_cycles(bench->dma, bench->dram, {false, map.encode({6, 3, 0}), burst});
  });
  bench = &b;
  context.start();
  const auto& t = b.dram.timing();
  CHECK(t.clock_period_ps == 625);
  CHECK(t.burst_cycles == 8);
  CHECK(empty == t.tRCD + t.tCL + t.burst_cycles);
  CHECK(hit == t.tCL + t.burst_cycles);
  CHECK(write_hit == t.tWL + t.burst_cycles);
  CHECK(conflict == t.tRP + t.tRCD + t.tCL + t.burst_cycles);
  // In ns, from the config's LPDDR4-3200 values: RL 17.5 + 8 clocks of data = 22.5 ns;
  // tRCD 18 ns rounds up to 29 clocks = 18.125 ns.
  CHECK(hit * 0.625 == Approx(22.5));
  CHECK(empty * 0.625 == Approx(18.125 + 22.5));
  CHECK(conflict * 0.625 == Approx(18.125 + 18.125 + 22.5));
  CHECK(b.dram.stats().total.row_hits == 2);
  CHECK(b.dram.stats().total.row_misses == 2);
  CHECK(b.dram.stats().total.precharges == 1);
}

TEST_CASE("streaming reads come within refresh of the peak bandwidth and never above") {
  eg::hw::SimContext context;
  const auto config = default_config();
  const uint64_t bytes = 1 << 20;
  double seconds = 0, single_seconds = 0;
  DramBench* bench = nullptr;
  DramBench b(config, [&] {
    sc_core::sc_time start = sc_core::sc_time_stamp();
    bench->dma.transfer({false, 0, bytes, DataClass::Activations});
    seconds = (sc_core::sc_time_stamp() - start).to_seconds();
    // The same bytes one burst at a time: latency-bound, far below the peak.
    start = sc_core::sc_time_stamp();
    for (uint64_t a = 0; a < bytes / 8; a += 64) bench->dma.transfer({false, 2 * bytes + a, 64});
    single_seconds = (sc_core::sc_time_stamp() - start).to_seconds();
  });
  bench = &b;
  context.start();
  const double peak = config.peak_bandwidth_bytes_per_s();
  CHECK(peak == Approx(12.8e9));
  const double achieved = bytes / seconds;
  CHECK(achieved <= peak * (1 + 1e-12));
  // Refresh idles the bus about 515 of every 6246 clocks (derived in test_lpddr4_timing.cpp).
  CHECK(achieved >= 0.91 * peak);
  CHECK((bytes / 8) / single_seconds < 0.3 * peak);
}

TEST_CASE("a bank-conflict pattern is slower than a row-hit pattern by tRP + tRCD per access") {
  eg::hw::SimContext context;
  auto j = default_config_json();
  j["timing_ns"]["tRAS"] = 20.0;  // short enough never to delay a precharge in this pattern
  const auto config = eg::dram::parse_dram_config(j, "test");
  const int n = 20;
  uint64_t hits = 0, conflicts = 0;
  DramBench* bench = nullptr;
  DramBench b(config, [&] {
    const auto& map = bench->dram.mapping();
    for (int i = 0; i < n; ++i)
      hits += timed_cycles(bench->dma, bench->dram, {false, map.encode({0, 1, uint64_t(i)}), 64});
    for (int i = 0; i < n; ++i)
      conflicts +=
          timed_cycles(bench->dma, bench->dram, {false, map.encode({uint64_t(i % 2), 2, 0}), 64});
  });
  bench = &b;
  context.start();
  const auto& t = b.dram.timing();
  // Both patterns start on a closed bank; after that every conflict access adds PRE and ACT.
  CHECK(conflicts - hits == (n - 1) * (t.tRP + t.tRCD));
  CHECK(b.dram.stats().total.activates == 1 + n);
}

TEST_CASE("counters add up, in total and by data class") {
  eg::hw::SimContext context;
  const auto config = default_config();
  DramBench* bench = nullptr;
  DramBench b(config, [&] {
    bench->dma.transfer({false, 0, 10000, DataClass::Weights});               // 157 bursts
    bench->dma.transfer({true, 1 << 20, 4096, DataClass::Momentum});          // 64 bursts
    bench->dma.transfer({true, (1 << 20) + 4100, 10, DataClass::Gradients});  // 1 partial burst
    bench->dma.transfer({false, 3 << 20, 640, DataClass::Feedback});          // 10 bursts
  });
  bench = &b;
  context.start();
  const auto& s = b.dram.stats();
  const auto& total = s.total;
  CHECK(total.read_bursts == 157 + 10);
  CHECK(total.write_bursts == 64 + 1);
  CHECK(total.read_bytes == total.read_bursts * config.burst_bytes());
  CHECK(total.write_bytes == total.write_bursts * config.burst_bytes());
  CHECK(total.row_hits + total.row_misses == total.bursts());
  CHECK(total.busy_cycles == total.bursts() * b.dram.timing().burst_cycles);
  CHECK(s.by_class[int(DataClass::Weights)].read_bytes == 157 * 64);
  CHECK(s.by_class[int(DataClass::Momentum)].write_bytes == 4096);
  CHECK(s.by_class[int(DataClass::Gradients)].write_bursts == 1);
  CHECK(s.by_class[int(DataClass::Feedback)].read_bursts == 10);
  CHECK(s.by_class[int(DataClass::Activations)].bursts() == 0);
  eg::dram::DramCounts sum;
  for (const auto& c : s.by_class) sum += c;
  CHECK(sum.read_bytes == total.read_bytes);
  CHECK(sum.write_bytes == total.write_bytes);
  CHECK(sum.activates == total.activates);
  CHECK(sum.row_hits == total.row_hits);
  CHECK(b.dma.transactions_issued() == total.bursts());
}

TEST_CASE("closed-page policy activates and precharges for every burst") {
  eg::hw::SimContext context;
  auto j = default_config_json();
  j["page_policy"] = "closed";
  const auto config = eg::dram::parse_dram_config(j, "test");
  uint64_t second = 0;
  DramBench* bench = nullptr;
  DramBench b(config, [&] {
    bench->dma.transfer({false, 0, 64});
    sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
    second = timed_cycles(bench->dma, bench->dram, {false, 64, 64});  // same row, now closed
  });
  bench = &b;
  context.start();
  const auto& t = b.dram.timing();
  CHECK(second == t.tRCD + t.tCL + t.burst_cycles);
  CHECK(b.dram.stats().total.activates == 2);
  CHECK(b.dram.stats().total.precharges == 2);
  CHECK(b.dram.stats().total.row_hits == 0);
}

TEST_CASE("a full request queue back-pressures the DMA engine without losing requests") {
  eg::hw::SimContext context;
  auto j = default_config_json();
  j["request_queue_depth"] = 2;
  const auto config = eg::dram::parse_dram_config(j, "test");
  DramBench* bench = nullptr;
  DramBench b(config, [&] { bench->dma.transfer({false, 0, 64 * 1024}); });
  bench = &b;
  context.start();
  CHECK(b.dram.stats().total.read_bursts == 1024);
}

TEST_CASE("an access beyond the DRAM's capacity makes transfer() throw") {
  eg::hw::SimContext context;
  const auto config = default_config();
  std::string error;
  DramBench* bench = nullptr;
  DramBench b(config, [&] {
    try {
      bench->dma.transfer({false, config.capacity_bytes() - 64, 128});
    } catch (const eg::Error& e) {
      error = e.what();
    }
  });
  bench = &b;
  context.start();
  CHECK(error.find("ADDRESS_ERROR") != std::string::npos);
  CHECK(b.dram.stats().total.read_bursts == 1);  // the in-range burst still moved
}

namespace {

// Sends a fixed list of reads back to back (each accepted at once by a non-full queue) and records
// the order of their responses.
struct RawInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<RawInitiator> socket;
  std::vector<uint64_t> addresses;
  std::vector<tlm::tlm_generic_payload> payloads;
  std::vector<int> completion_order;
  unsigned char data[64] = {};

  SC_HAS_PROCESS(RawInitiator);
  RawInitiator(sc_core::sc_module_name n, std::vector<uint64_t> a)
      : sc_module(n), socket("socket"), addresses(std::move(a)), payloads(addresses.size()) {
    socket.register_nb_transport_bw(this, &RawInitiator::bw);
    SC_THREAD(run);
  }
  void run() {
    for (size_t i = 0; i < addresses.size(); ++i) {
      auto& p = payloads[i];
      p.set_command(tlm::TLM_READ_COMMAND);
      p.set_address(addresses[i]);
      p.set_data_ptr(data);
      p.set_data_length(64);
      p.set_streaming_width(64);
      tlm::tlm_phase phase = tlm::BEGIN_REQ;
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      REQUIRE(socket->nb_transport_fw(p, phase, delay) == tlm::TLM_UPDATED);
      REQUIRE(phase == tlm::END_REQ);
    }
  }
  tlm::tlm_sync_enum bw(tlm::tlm_generic_payload& p, tlm::tlm_phase& phase, sc_core::sc_time&) {
    if (phase == tlm::BEGIN_RESP) {
      completion_order.push_back(static_cast<int>(&p - payloads.data()));
      phase = tlm::END_RESP;
      return tlm::TLM_COMPLETED;
    }
    return tlm::TLM_ACCEPTED;
  }
};

}  // namespace

TEST_CASE("FR-FCFS serves a younger row hit before an older row miss") {
  eg::hw::SimContext context;
  const auto config = default_config();
  eg::hw::Lpddr4Channel dram("dram", config);
  const auto& map = dram.mapping();
  // 0 opens row 4 of bank 2; 1 (older) needs row 9 of the same bank; 2 (younger) hits row 4.
  RawInitiator init("init", {map.encode({4, 2, 0}), map.encode({9, 2, 0}), map.encode({4, 2, 1})});
  init.socket.bind(dram.socket);
  context.start();
  REQUIRE(init.completion_order.size() == 3);
  CHECK(init.completion_order == std::vector<int>{0, 2, 1});
  CHECK(dram.stats().total.row_hits == 1);
  CHECK(dram.stats().total.activates == 2);
}

TEST_CASE("report figures name every data class as eg::hw::to_string does") {
  eg::dram::DramStats stats;
  for (int i = 0; i < eg::dram::kDataClasses; ++i) {
    CHECK(std::string(eg::dram::kDataClassNames[i]) ==
          eg::hw::to_string(static_cast<DataClass>(i)));
    stats.by_class[i].read_bytes = 64 * (i + 1);
    stats.total.read_bytes += 64 * (i + 1);
  }
  const auto j = eg::dram::dram_figures_json(stats);
  CHECK(j["read_bytes"] == 64 * 21);
  CHECK(j["by_class"]["momentum"]["read_bytes"] == 64 * 6);
}
