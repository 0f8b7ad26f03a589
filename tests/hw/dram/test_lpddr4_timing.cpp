// LPDDR4 refresh, activation windows (tRRD, tFAW) and read/write bus turnaround (tWTR, tRTW),
// each against figures derived by hand from the default LPDDR4-3200 config, in DRAM clocks
// (tCK 0.625 ns): tRCD 29, RL 28, WL 14, BL/2 8, tCCD 8, tRTP 12, tRAS 68, tRPab 34, tRRD 16,
// tFAW 64, tWTR 16, tRTW 8, tRFCab 448, tREFI 6246.
#include <tlm_utils/simple_initiator_socket.h>
#include <catch2/catch.hpp>

#include <vector>

#include "dram_testbench.hpp"
#include "models/json_fields.hpp"

using eg::testing::DramBench;
using eg::testing::timed_cycles;

namespace {

nlohmann::json default_config_json() {
  return eg::load_json_file(EGSIM_SOURCE_DIR "/configs/dram/lpddr4_3200_x32.json");
}

eg::dram::DramConfig default_config() {
  return eg::dram::parse_dram_config(default_config_json(), "lpddr4_3200_x32.json");
}

struct Access {
  bool write = false;
  eg::dram::DramLocation at;
};

// Sends a fixed list of one-burst accesses at time 0, back to back (the queue must hold them all),
// and records the DRAM cycle at which each one's data has moved (its BEGIN_RESP).
struct ListInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<ListInitiator> socket;
  std::vector<Access> accesses;
  const eg::hw::Lpddr4Channel& dram;
  std::vector<tlm::tlm_generic_payload> payloads;
  std::vector<uint64_t> done;  // completion cycle per access, in list order
  unsigned char data[64] = {};

  SC_HAS_PROCESS(ListInitiator);
  ListInitiator(sc_core::sc_module_name n, std::vector<Access> a, const eg::hw::Lpddr4Channel& d)
      : sc_module(n),
        socket("socket"),
        accesses(std::move(a)),
        dram(d),
        payloads(accesses.size()),
        done(accesses.size(), 0) {
    socket.register_nb_transport_bw(this, &ListInitiator::bw);
    SC_THREAD(run);
  }
  void run() {
    for (size_t i = 0; i < accesses.size(); ++i) {
      auto& p = payloads[i];
      p.set_command(accesses[i].write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
      p.set_address(dram.mapping().encode(accesses[i].at));
      p.set_data_ptr(data);
      p.set_data_length(64);
      p.set_streaming_width(64);
      tlm::tlm_phase phase = tlm::BEGIN_REQ;
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      REQUIRE(socket->nb_transport_fw(p, phase, delay) == tlm::TLM_UPDATED);
    }
  }
  tlm::tlm_sync_enum bw(tlm::tlm_generic_payload& p, tlm::tlm_phase& phase, sc_core::sc_time&) {
    if (phase == tlm::BEGIN_RESP) {
      done[static_cast<size_t>(&p - payloads.data())] =
          sc_core::sc_time_stamp().value() / dram.clock_period().value();
      phase = tlm::END_RESP;
      return tlm::TLM_COMPLETED;
    }
    return tlm::TLM_ACCEPTED;
  }
};

std::vector<uint64_t> run_list(const eg::dram::DramConfig& config, std::vector<Access> list) {
  eg::hw::SimContext context;
  eg::hw::Lpddr4Channel dram("dram", config);
  ListInitiator init("init", std::move(list), dram);
  init.socket.bind(dram.socket);
  sc_core::sc_start();
  return init.done;
}

}  // namespace

TEST_CASE("streaming reads reach the peak bandwidth less what refresh costs") {
  eg::hw::SimContext context;
  const auto config = default_config();
  const uint64_t bursts = 32768;  // 2 MiB: about 45 refresh intervals
  uint64_t cycles = 0;
  DramBench* bench = nullptr;
  DramBench b(config, [&] {
    cycles = timed_cycles(bench->dma, bench->dram, {false, 0, bursts * 64});
  });
  bench = &b;
  sc_core::sc_start();
  const auto& t = b.dram.timing();
  const uint64_t refreshes = b.dram.stats().refreshes;
  // Without refresh the stream takes tRCD + RL to its first data, then BL/2 per burst: row changes
  // are hidden because the next bank is opened while the current one streams.
  const uint64_t first_data = t.tRCD + t.tCL;
  REQUIRE(cycles > first_data + bursts * t.burst_cycles);
  const uint64_t lost = cycles - first_data - bursts * t.burst_cycles;
  // Refresh k is due at k x tREFI; every one due before the last burst was scheduled happened.
  CHECK(refreshes == cycles / t.tREFI);
  // Each refresh idles the data bus from the end of the last burst before it (READ at c, data done
  // at c + RL + BL/2) to the first data after it: the precharge-all waits for that READ's tRTP,
  // then tRPab, tRFCab, and the interrupted row is opened again (tRCD) before its next READ (RL):
  //   c + tRTP + tRPab + tRFCab + tRCD + RL - (c + RL + BL/2) = 12 + 34 + 448 + 29 - 8 = 515.
  const uint64_t per_refresh = t.tRTP + t.tRPab + t.tRFCab + t.tRCD - t.burst_cycles;
  CHECK(per_refresh == 515);
  // When the refresh leaves exactly one burst in the open row, the next bank's ACT must also wait
  // tRRD after the row's re-ACT: its READ comes tRRD + tRCD after that ACT instead of tRCD + BL/2,
  // tRRD - BL/2 = 8 clocks more. That happens for some refreshes of a long stream, never more.
  const uint64_t row_edge = t.tRRD - t.burst_cycles;
  CHECK(lost >= refreshes * per_refresh);
  CHECK(lost <= refreshes * (per_refresh + row_edge));
  CHECK((lost - refreshes * per_refresh) % row_edge == 0);
  // As bandwidth: refresh alone would take tRFCab of every tREFI (peak x 0.9283); the precharge
  // and re-open around it take 67 to 75 clocks more (peak x 0.9163 to 0.9175).
  const double peak = config.peak_bandwidth_bytes_per_s();
  const double achieved = bursts * 64 / (cycles * t.clock_period_ps * 1e-12);
  CHECK(achieved < peak * (1.0 - double(t.tRFCab) / t.tREFI));
  CHECK(achieved >=
        peak * (1.0 - double(per_refresh + row_edge) / t.tREFI - double(first_data) / cycles));
}

TEST_CASE("a refresh due mid-stream delays the next access by the precharge-all and tRFCab") {
  eg::hw::SimContext context;
  const auto config = default_config();
  uint64_t before = 0, across = 0, issued_across = 0, after_idle = 0;
  DramBench* bench = nullptr;
  DramBench b(config, [&] {
    auto& dram = bench->dram;
    auto wait_until = [&](uint64_t cycle) {
      sc_core::wait(dram.clock_period() * static_cast<double>(cycle) - sc_core::sc_time_stamp());
    };
    const auto& map = dram.mapping();
    bench->dma.transfer({false, map.encode({5, 3, 0}), 64});  // opens row 5 of bank 3
    wait_until(6240);                                         // 6 clocks before the refresh
    before = timed_cycles(bench->dma, dram, {false, map.encode({5, 3, 1}), 64});
    issued_across = sc_core::sc_time_stamp().value() / dram.clock_period().value();
    across = timed_cycles(bench->dma, dram, {false, map.encode({5, 3, 2}), 64});
    // The second refresh (due at 12492) falls while the channel is idle and is over by 13000.
    wait_until(13000);
    after_idle = timed_cycles(bench->dma, dram, {false, map.encode({5, 3, 3}), 64});
  });
  bench = &b;
  sc_core::sc_start();
  const auto& t = b.dram.timing();
  // The READ at 6240 is a row hit, before the refresh is due: RL + BL/2.
  CHECK(before == t.tCL + t.burst_cycles);
  CHECK(issued_across == 6240 + before);
  // The refresh due at 6246 precharges all banks once the open bank allows it (READ at 6240 +
  // tRTP = 6252), refreshes tRPab later (6286), and no ACT may follow for tRFCab (until 6734). The
  // row is closed now, so the read issued at 6276 pays tRCD + RL + BL/2 from there:
  //   6240 + tRTP + tRPab + tRFCab + tRCD + RL + BL/2 - 6276 = 6799 - 6276 = 523 clocks,
  // against RL + BL/2 = 36 for the same row hit without the refresh.
  CHECK(across ==
        6240 + t.tRTP + t.tRPab + t.tRFCab + t.tRCD + t.tCL + t.burst_cycles - issued_across);
  CHECK(across == 523);
  // A refresh while idle costs an access nothing but the row it closed: tRCD + RL + BL/2.
  CHECK(after_idle == t.tRCD + t.tCL + t.burst_cycles);
  CHECK(b.dram.stats().refreshes == 2);
  CHECK(b.dram.stats().total.activates == 3);
  CHECK(b.dram.stats().total.row_hits == 1);
}

TEST_CASE("alternating reads and writes pay the bus turnaround at every switch") {
  const auto config = default_config();
  const eg::dram::DramTiming t = eg::dram::timing_in_cycles(config);
  // One row of bank 0: a read opens it, then 14 row hits. Every access is queued at time 0, so
  // only the turnaround rules space them.
  auto pattern = [](bool alternate, bool first_write) {
    std::vector<Access> list;
    for (uint64_t i = 0; i < 15; ++i)
      list.push_back({alternate ? (i % 2 == 1) : (i > 0 && first_write), {0, 0, i}});
    return list;
  };
  const auto reads = run_list(config, pattern(false, false));
  const auto writes = run_list(config, pattern(false, true));
  const auto mixed = run_list(config, pattern(true, false));
  // First data: ACT at 0, READ at tRCD, data done RL + BL/2 later.
  const uint64_t first = t.tRCD + t.tCL + t.burst_cycles;
  CHECK(reads[0] == first);
  CHECK(mixed[0] == first);
  for (size_t i = 1; i < 15; ++i) {
    INFO("access " << i);
    // Same direction: back to back on the data bus, tCCD = BL/2 apart.
    CHECK(reads[i] - reads[i - 1] == t.burst_cycles);
    if (i > 1) CHECK(writes[i] - writes[i - 1] == t.burst_cycles);
    if (i % 2 == 1) {
      // Read -> write: the write's data may start tRTW after the read's last beat (its WRITE issues
      // RL + BL/2 + tRTW - WL = 30 clocks after the READ, JESD209-4's read-to-write spacing).
      CHECK(mixed[i] - mixed[i - 1] == t.tRTW + t.burst_cycles);
    } else {
      // Write -> read: the READ waits tWTR after the write's last beat, then RL for its data.
      CHECK(mixed[i] - mixed[i - 1] == t.tWTR + t.tCL + t.burst_cycles);
    }
  }
  // 7 read->write switches of 8 idle clocks and 7 write->read ones of 44.
  CHECK(mixed[14] - reads[14] == 7 * t.tRTW + 7 * (t.tWTR + t.tCL));
  CHECK(mixed[14] - reads[14] == 7 * 8 + 7 * 44);
}

TEST_CASE("ACTs to five banks are tRRD apart and the fifth waits for the tFAW window") {
  std::vector<Access> five;
  for (uint64_t bank = 0; bank < 5; ++bank) five.push_back({false, {0, bank, 0}});
  // Each read: ACT at a, READ at a + tRCD, data done at a + tRCD + RL + BL/2 = a + 65.
  const uint64_t latency = 29 + 28 + 8;
  SECTION("LPDDR4-3200: tRRD = 16 spaces the ACTs, four of them already span tFAW = 64") {
    const auto done = run_list(default_config(), five);
    for (uint64_t i = 0; i < 5; ++i) CHECK(done[i] == 16 * i + latency);
  }
  SECTION("with tRRD = 8 clocks the fifth ACT waits until the first's tFAW window has passed") {
    auto j = default_config_json();
    j["timing_ns"]["tRRD"] = 5.0;  // 8 clocks
    const auto done = run_list(eg::dram::parse_dram_config(j, "test"), five);
    // ACTs at 0, 8, 16, 24, then 0 + tFAW = 64 (not 32).
    CHECK(done ==
          std::vector<uint64_t>{latency, 8 + latency, 16 + latency, 24 + latency, 64 + latency});
    j["timing_ns"]["tFAW"] = 5.0;  // the window no longer binds: the fifth ACT at 32
    const auto unlimited = run_list(eg::dram::parse_dram_config(j, "test"), five);
    CHECK(unlimited[4] == 32 + latency);
  }
}
