// The timeline recorder on its own: touching intervals of one kind merge (their counts summed),
// never across a phase; short cluster intervals fold into their neighbour; DRAM bytes spread over
// the bandwidth windows they cross, in GB/s.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "hw/timeline/timeline_recorder.hpp"

using eg::hw::DataClass;
using eg::hw::TimelineRecorder;
using nlohmann::json;

namespace {
std::vector<json> spans(const json& doc, const std::string& category) {
  std::vector<json> out;
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == category) out.push_back(e);
  return out;
}
}  // namespace

TEST_CASE("The recorder merges touching transfers of one class and keeps phases apart",
          "[timeline]") {
  TimelineRecorder t(100.0, 1000);
  t.begin_phase();
  t.dma(DataClass::Weights, false, 0, 10, 64, 60);
  t.dma(DataClass::Weights, false, 10, 30, 128, 128);  // touches: merged
  t.dma(DataClass::Weights, false, 40, 50, 64, 64);    // a gap: a new event
  t.dma(DataClass::Weights, true, 50, 60, 64, 64);     // another track
  t.phase(0, "conv", "forward", 0, 60, {});
  t.begin_phase();
  t.dma(DataClass::Weights, false, 60, 70, 64, 64);  // touches, but in the next phase
  t.phase(0, "conv", "backward", 60, 70, {});
  const json doc = json::parse(t.json({}));
  const std::vector<json> dma = spans(doc, "dma");
  REQUIRE(dma.size() == 4);
  CHECK(dma[0]["args"]["begin_cycle"] == 0);
  CHECK(dma[0]["args"]["end_cycle"] == 30);
  CHECK(dma[0]["args"]["dram_bytes"] == 192);
  CHECK(dma[0]["args"]["requested_bytes"] == 188);
  CHECK(dma[0]["args"]["transfers"] == 2);
  CHECK(dma[0]["ts"] == 0.0);
  CHECK(dma[0]["dur"] == 0.3);  // 30 cycles at 100 MHz
  CHECK(dma[1]["args"]["begin_cycle"] == 40);
  CHECK(dma[2]["args"]["begin_cycle"] == 60);  // read track first (sort order), then the write
  CHECK(dma[3]["name"] == "weights write");
  // One layer span for the two phases that run back to back, before the phases it holds.
  const std::vector<json> layers = spans(doc, "layer");
  REQUIRE(layers.size() == 1);
  CHECK(layers[0]["args"]["cycles"] == 70);
  CHECK(spans(doc, "phase").size() == 2);
}

TEST_CASE("The recorder folds a cluster's short waits and gaps into its compute span",
          "[timeline]") {
  TimelineRecorder t(200.0, 1000);
  t.begin_phase();
  t.cluster(2, "accelerator.pc2", "wait DRAM", 0, 500,
            {{"stalled_pe_cycles", 6000}});  // long: its own span
  t.cluster(2, "accelerator.pc2", "compute", 500, 1500, {{"busy_pe_cycles", 100}});
  t.cluster(2, "accelerator.pc2", "wait DRAM", 1500, 1510,
            {{"stalled_pe_cycles", 120}});  // short: folded
  t.cluster(2, "accelerator.pc2", "compute", 1520, 2500,
            {{"busy_pe_cycles", 50}});  // short gap: bridged
  const json doc = json::parse(t.json({}));
  const std::vector<json> c = spans(doc, "cluster");
  REQUIRE(c.size() == 2);
  CHECK(c[0]["name"] == "wait DRAM");
  CHECK(c[1]["name"] == "compute");
  CHECK(c[1]["args"]["begin_cycle"] == 500);
  CHECK(c[1]["args"]["end_cycle"] == 2500);
  CHECK(c[1]["args"]["busy_pe_cycles"] == 150);
  CHECK(c[1]["args"]["stalled_pe_cycles"] == 120);
  CHECK(c[1]["args"]["wait DRAM cycles"] == 10);
  CHECK(c[1]["args"]["compute cycles"] == 1980);
  CHECK(c[1]["args"]["merged_events"] == 3);
  bool named = false;
  for (const json& e : doc["traceEvents"])
    named |= e["ph"] == "M" && e["name"] == "thread_name" && e["args"]["name"] == "accelerator.pc2";
  CHECK(named);
}

TEST_CASE("The recorder's bandwidth counter spreads bytes over the windows they cross",
          "[timeline]") {
  // 1 GHz clock: 1 cycle = 1 ns; 100-cycle windows of 100 ns.
  TimelineRecorder t(1000.0, 100);
  t.attach(sc_core::sc_time(1, sc_core::SC_NS));
  // 1000 bytes over [50 ns, 150 ns): half in window 0, half in window 1 -> 5 GB/s each.
  t.dram_bus(false, sc_core::sc_time(50, sc_core::SC_NS), sc_core::sc_time(150, sc_core::SC_NS),
             1000);
  t.dram_bus(true, sc_core::sc_time(120, sc_core::SC_NS), sc_core::sc_time(130, sc_core::SC_NS),
             300);
  const json doc = json::parse(t.json({}));
  std::vector<json> c;
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "C") c.push_back(e);
  REQUIRE(c.size() == 3);  // window 0, window 1, and the zero after the last
  CHECK(c[0]["ts"] == 0.0);
  CHECK(c[0]["args"]["read"].get<double>() == Approx(5.0));
  CHECK(c[0]["args"]["write"].get<double>() == 0.0);
  CHECK(c[1]["ts"].get<double>() == Approx(0.1));
  CHECK(c[1]["args"]["read"].get<double>() == Approx(5.0));
  CHECK(c[1]["args"]["write"].get<double>() == Approx(3.0));
  CHECK(c[2]["args"]["read"] == 0.0);
}
