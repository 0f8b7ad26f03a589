// The memory system wired into the array (issue 4): DRAM counters and energy add up, each energy
// table entry prices exactly its component, traffic invariants of a training iteration hold, the
// schedule's switches (GLB reuse, δ̂ compression, feedback regeneration) change traffic the way they
// should, and bad configs are rejected by name.
#include <catch2/catch.hpp>

#include <cmath>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "tests/hw/array/trace_builder.hpp"
#include "tests/hw/memory/memory_test_support.hpp"

using namespace eg;
using nlohmann::json;
using testing::number;

namespace {

const char* const kComponents[] = {"mac", "spad", "noc", "glb", "dram", "ppu", "leakage"};
const char* const kPhases[] = {"forward", "backward", "weight_gradient", "weight_update"};

bool close(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

bool weighted(const json& layer) {
  return layer["type"] == "conv" || layer["type"] == "fc";
}

uint64_t round_to_burst(uint64_t bytes) {
  return (bytes + 63) / 64 * 64;
}

uint64_t weight_count(const trace::Layer& l) {
  return static_cast<uint64_t>(element_count(l.expected_shape("w")));
}

// Bytes of `cls` read in `phase` of every conv/FC layer.
double class_reads(const json& report, const char* phase, const char* cls) {
  double sum = 0;
  for (const json& l : report["layers"])
    if (weighted(l) && l["phases"].contains(phase))
      sum += number(l["phases"][phase]["dram"]["by_class"][cls]["read_bytes"]);
  return sum;
}

// The ideal model has no row buffers: it reports bursts, bytes and classes only.
void check_dram_counters(const json& f, bool row_buffers = true) {
  const json& d = f["dram"];
  CHECK(number(d["read_bytes"]) + number(d["write_bytes"]) == number(d["bursts"]) * 64);
  if (row_buffers) CHECK(number(d["row_hits"]) + number(d["row_misses"]) == number(d["bursts"]));
  double by_class = 0;
  for (auto it = d["by_class"].begin(); it != d["by_class"].end(); ++it)
    by_class += number(it.value()["read_bytes"]) + number(it.value()["write_bytes"]);
  CHECK(by_class == number(d["read_bytes"]) + number(d["write_bytes"]));
}

}  // namespace

TEST_CASE("energy totals equal the sum of components and of layers, DRAM counters add up",
          "[memory]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6);
  const testing::Run run =
      testing::run_trace(testing::shipped_config("efficientgrad.json"), dir / "trace");
  const json& r = run.report;
  auto check_components = [](const json& f) {
    double sum = 0;
    for (const char* c : kComponents) sum += number(f["energy_pj"][c]);
    CHECK(close(sum, number(f["energy_pj"]["total"])));
    CHECK(close(number(f["power_mw"]),
                number(f["energy_pj"]["total"]) * 1e-12 / number(f["seconds"]) * 1e3));
    // The chip's power (dynamic plus leakage) and the DRAM's add up to the system's.
    CHECK(close(number(f["chip_power_mw"]) + number(f["dram_power_mw"]), number(f["power_mw"])));
    CHECK(close(number(f["dram_power_mw"]),
                number(f["energy_pj"]["dram"]) * 1e-12 / number(f["seconds"]) * 1e3));
    check_dram_counters(f);
  };
  check_components(r["totals"]);
  double layers_total = 0, layers_dram_bytes = 0;
  std::map<std::string, double> phase_sum;
  for (const json& l : r["layers"])
    for (auto it = l["phases"].begin(); it != l["phases"].end(); ++it) {
      INFO(l["name"] << " " << it.key());
      check_components(it.value());
      layers_total += number(it.value()["energy_pj"]["total"]);
      layers_dram_bytes +=
          number(it.value()["dram"]["read_bytes"]) + number(it.value()["dram"]["write_bytes"]);
      phase_sum[it.key()] += number(it.value()["energy_pj"]["total"]);
    }
  CHECK(close(layers_total, number(r["totals"]["energy_pj"]["total"])));
  CHECK(layers_dram_bytes ==
        number(r["totals"]["dram"]["read_bytes"]) + number(r["totals"]["dram"]["write_bytes"]));
  for (const char* p : kPhases) {
    INFO(p);
    check_components(r["phases"][p]);
    CHECK(close(phase_sum[p], number(r["phases"][p]["energy_pj"]["total"])));
  }
  CHECK(number(r["totals"]["energy_pj"]["dram"]) > 0);
  CHECK(number(r["totals"]["dram"]["activates"]) > 0);
  CHECK(number(r["totals"]["gops"]) > 0);
  // Throughput counts issued MACs; the dense-equivalent figure adds the skipped ones.
  for (const char* p : kPhases) {
    INFO(p);
    const json& f = r["phases"][p];
    const double s = number(f["seconds"]);
    CHECK(close(number(f["gops"]), 2 * number(f["macs_issued"]) / s / 1e9));
    CHECK(close(number(f["effective_gops"]),
                2 * (number(f["macs_issued"]) + number(f["macs_skipped"])) / s / 1e9));
  }
  CHECK(number(r["phases"]["backward"]["effective_gops"]) >
        number(r["phases"]["backward"]["gops"]));  // the tiny trace's δ̂ has zeros
}

TEST_CASE("doubling one energy table entry changes exactly its component", "[memory]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6);
  const json cfg_json = testing::shipped_config_json("efficientgrad.json");
  const arch::ArchConfig base = testing::config_from(cfg_json);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  const hw::array::RunResult run = hw::array::simulate(base, t, {});
  const json before = hw::array::report_json(run, base, t)["totals"]["energy_pj"];
  std::ifstream in(cfg_json["energy_table"].get<std::string>());
  const json table = json::parse(in);
  const std::vector<std::pair<const char*, const char*>> entries{
      {"mac_8x8_pj", "mac"},
      {"mac_16x8_pj", "mac"},
      {"spad_psum_read_pj_per_bit", "spad"},
      {"noc_iact_pj_per_bit_hop", "noc"},
      {"glb_iact_write_pj_per_bit", "glb"},
      {"dram_read_pj_per_bit", "dram"},
      {"dram_activate_pj", "dram"},
      {"ppu_op_pj", "ppu"},
      {"leak_glb_mw_per_kib", "leakage"},
      {"leak_mac_lane_mw", "leakage"}};
  for (const auto& [entry, component] : entries) {
    INFO(entry);
    json doubled = table;
    doubled["entries"][entry]["value"] = 2 * number(table["entries"][entry]["value"]);
    std::ofstream(dir / "table.json") << doubled.dump();
    json cfg = cfg_json;
    cfg["energy_table"] = (dir / "table.json").string();
    const arch::ArchConfig changed = testing::config_from(cfg);
    const json after = hw::array::report_json(run, changed, t)["totals"]["energy_pj"];
    for (const char* c : kComponents) {
      INFO(c);
      if (std::string(c) == component)
        CHECK(number(after[c]) > number(before[c]));
      else
        CHECK(number(after[c]) == number(before[c]));
    }
  }
}

TEST_CASE("leakage energy of a phase is every block's leakage power times the phase's time",
          "[memory]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6);
  for (const char* name : {"efficientgrad.json", "eyeriss_v2_bp.json"}) {
    INFO(name);
    const json cfg_json = testing::shipped_config_json(name);
    const json table = json::parse(std::ifstream(cfg_json["energy_table"].get<std::string>()));
    auto leak = [&](const char* entry) { return number(table["entries"][entry]["value"]); };
    // The shipped array, counted by hand: 6 clusters x 12 PEs x 2 MAC lanes; spads of 16 x 8 +
    // 96 x 8 + 96 x 8 + 32 x 24 = 2432 bits per PE; 6 x (3 x 1536 + 4 x 1920 + 4096) B = 96 KiB of
    // GLB; 6 x (3 x 24 + 3 x 24 + 4 x 40) = 1824 router link bits; 6 x 4 PPU lanes.
    const double chip_leak_mw =
        144 * leak("leak_mac_lane_mw") + 72 * 2432 * leak("leak_spad_mw_per_bit") +
        96 * leak("leak_glb_mw_per_kib") + 1824 * leak("leak_noc_mw_per_link_bit") +
        24 * leak("leak_ppu_lane_mw");
    CHECK(chip_leak_mw > 0);
    const json r = testing::run_trace(testing::config_from(cfg_json), dir / "trace").report;
    auto check = [&](const json& f) {
      const double seconds = number(f["cycles"]) / 500e6;  // the shipped 500 MHz clock
      CHECK(close(number(f["energy_pj"]["leakage"]), chip_leak_mw * 1e-3 * seconds * 1e12));
      CHECK(number(f["chip_power_mw"]) > chip_leak_mw);  // leakage plus some dynamic power
    };
    check(r["totals"]);
    for (const char* p : kPhases) {
      INFO(p);
      check(r["phases"][p]);
    }
    for (const json& l : r["layers"])
      for (auto it = l["phases"].begin(); it != l["phases"].end(); ++it) check(it.value());
  }
}

TEST_CASE("every weight is read from DRAM in the iteration and written once in the update",
          "[memory]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  for (const char* name : {"efficientgrad.json", "eyeriss_v2_bp.json"}) {
    INFO(name);
    const arch::ArchConfig cfg = testing::shipped_config(name);
    const json r = testing::run_trace(cfg, dir / "trace").report;
    for (const json& l : r["layers"]) {
      if (!weighted(l)) continue;
      INFO(l["name"]);
      const uint64_t n = weight_count(*t.manifest().find(l["name"].get<std::string>()));
      double reads = 0;
      for (auto it = l["phases"].begin(); it != l["phases"].end(); ++it)
        reads += number(it.value()["dram"]["by_class"]["weights"]["read_bytes"]);
      CHECK(reads >= double(n * uint64_t(cfg.widths.weight) / 8));
      const json& update = l["phases"]["weight_update"]["dram"]["by_class"];
      // Master copy and momentum at their widths, plus the working copy for the next forward.
      CHECK(number(update["weights"]["write_bytes"]) ==
            double(round_to_burst(n * uint64_t(cfg.widths.master_weight) / 8) +
                   round_to_burst(n * uint64_t(cfg.widths.weight) / 8)));
      CHECK(number(update["momentum"]["write_bytes"]) ==
            double(round_to_burst(n * uint64_t(cfg.widths.momentum) / 8)));
      // ΔW is read back unless the update is fused (then it never reaches DRAM).
      CHECK(number(update["weight_gradients"]["read_bytes"]) ==
            (cfg.features.fused_weight_update
                 ? 0.0
                 : double(round_to_burst(n * uint64_t(cfg.widths.gradient) / 8))));
    }
  }
}

TEST_CASE("the BP baseline's backward DRAM reads exceed EfficientGrad's by the transposed weights",
          "[memory]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  const json eg =
      testing::run_trace(testing::shipped_config("efficientgrad.json"), dir / "trace").report;
  const arch::ArchConfig bp_cfg = testing::shipped_config("eyeriss_v2_bp.json");
  const json bp = testing::run_trace(bp_cfg, dir / "trace").report;
  for (size_t i = 0; i < eg["layers"].size(); ++i) {
    const json& l = eg["layers"][i];
    // conv1, fed by the network input, has no backward phase.
    if (!weighted(l) || !l["phases"].contains("backward")) continue;
    INFO(l["name"]);
    const uint64_t transposed =
        weight_count(*t.manifest().find(l["name"].get<std::string>())) * bp_cfg.widths.weight / 8;
    const double eg_reads = number(l["phases"]["backward"]["dram"]["read_bytes"]);
    const double bp_reads = number(bp["layers"][i]["phases"]["backward"]["dram"]["read_bytes"]);
    CHECK(bp_reads - eg_reads >= double(transposed));
  }
}

TEST_CASE("with compression on, δ̂ traffic falls as its zero fraction rises", "[memory]") {
  testing::TempDir dir;
  // Same seed: the traces differ only in which dy elements are zero.
  testing::write_tiny_resnet(dir / "sparse30", 0.3, 7);
  testing::write_tiny_resnet(dir / "sparse90", 0.9, 7);
  auto delta_hat_reads = [&](const char* compression, const char* trace) {
    const arch::ArchConfig cfg = testing::shipped_config("efficientgrad.json", [&](json& j) {
      j["features"]["gradient_compression"] = compression;
      j["features"]["interlayer_glb_reuse"] = false;  // every δ̂ goes through DRAM
    });
    const json r = testing::run_trace(cfg, dir / trace).report;
    return class_reads(r, "backward", "gradients") + class_reads(r, "weight_gradient", "gradients");
  };
  const double none30 = delta_hat_reads("none", "sparse30"),
               none90 = delta_hat_reads("none", "sparse90");
  CHECK(none30 == none90);  // uncompressed transfers do not depend on the values
  for (const char* scheme : {"rle", "csc"}) {
    INFO(scheme);
    const double c30 = delta_hat_reads(scheme, "sparse30"),
                 c90 = delta_hat_reads(scheme, "sparse90");
    CHECK(c90 < c30);
    CHECK(c90 < none90);
  }
  // A dense δ̂ would be larger compressed; the raw form is kept, so compression never adds traffic.
  testing::write_tiny_resnet(dir / "dense", 0.0, 7);
  CHECK(delta_hat_reads("csc", "dense") == delta_hat_reads("none", "dense"));
}

TEST_CASE("GLB reuse between layers and seeded feedback remove DRAM traffic", "[memory]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6);
  auto run = [&](bool reuse, const char* feedback) {
    return testing::run_trace(
               testing::shipped_config("efficientgrad.json",
                                       [&](json& j) {
                                         j["features"]["interlayer_glb_reuse"] = reuse;
                                         j["features"]["feedback_magnitudes"] = feedback;
                                       }),
               dir / "trace")
        .report;
  };
  const json base = run(true, "dram"), no_reuse = run(false, "dram"), seeded = run(true, "seed");
  auto traffic = [](const json& r, const char* phase, const char* cls) {
    const json& c = r["phases"][phase]["dram"]["by_class"][cls];
    return number(c["read_bytes"]) + number(c["write_bytes"]);
  };
  CHECK(traffic(base, "forward", "activations") < traffic(no_reuse, "forward", "activations"));
  CHECK(traffic(base, "backward", "gradients") < traffic(no_reuse, "backward", "gradients"));
  CHECK(traffic(base, "backward", "feedback") > 0);
  CHECK(traffic(seeded, "backward", "feedback") == 0);
  // The functional results do not depend on where data lives.
  CHECK(base["totals"]["macs_issued"] == no_reuse["totals"]["macs_issued"]);
}

TEST_CASE("the ideal memory model still runs and reports what crossed the interface", "[memory]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6);
  const json ideal =
      testing::run_trace(testing::shipped_config("efficientgrad.json",
                                                 [](json& j) { j["offchip"]["model"] = "ideal"; }),
                         dir / "trace")
          .report;
  const json lpddr4 =
      testing::run_trace(testing::shipped_config("efficientgrad.json"), dir / "trace").report;
  check_dram_counters(ideal["totals"], false);
  CHECK(number(ideal["totals"]["dram"]["activates"]) == 0);
  // Same transfers, same bursts; only the timing differs.
  CHECK(ideal["totals"]["dram"]["bursts"] == lpddr4["totals"]["dram"]["bursts"]);
  CHECK(ideal["totals"]["cycles"] != lpddr4["totals"]["cycles"]);
}

TEST_CASE("bad configs are rejected naming the file and field", "[memory]") {
  testing::TempDir dir;
  const json cfg = testing::shipped_config_json("efficientgrad.json");
  auto error_of = [&](const std::function<void(json&)>& edit) {
    json j = cfg;
    edit(j);
    try {
      testing::config_from(j);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto contains = [](const std::string& s, const std::string& part) {
    INFO(s);
    return s.find(part) != std::string::npos;
  };
  // A DRAM timing of zero, in the referenced DRAM config.
  std::ifstream dram_in(cfg["offchip"]["dram_config"].get<std::string>());
  json dram = json::parse(dram_in);
  dram["timing_ns"]["tRCD"] = 0;
  std::ofstream(dir / "dram.json") << dram.dump();
  const std::string timing =
      error_of([&](json& j) { j["offchip"]["dram_config"] = (dir / "dram.json").string(); });
  CHECK(contains(timing, "cfg.json: /offchip/dram_config: "));
  CHECK(contains(timing, (dir / "dram.json").string() + ": /timing_ns/tRCD: must be > 0"));
  // An energy entry missing.
  std::ifstream energy_in(cfg["energy_table"].get<std::string>());
  json energy = json::parse(energy_in);
  energy["entries"].erase("glb_psum_read_pj_per_bit");
  std::ofstream(dir / "energy.json") << energy.dump();
  const std::string entry =
      error_of([&](json& j) { j["energy_table"] = (dir / "energy.json").string(); });
  CHECK(contains(entry, "cfg.json: /energy_table: "));
  CHECK(contains(entry,
                 (dir / "energy.json").string() + ": /entries/glb_psum_read_pj_per_bit: missing"));
  CHECK(contains(error_of([](json& j) { j["energy_table"] = "/nonexistent/table.json"; }),
                 "/nonexistent/table.json"));
  CHECK(error_of([](json& j) { j["widths"]["master_weight_bits"] = -16; }) ==
        "cfg.json: /widths/master_weight_bits: must be >= 1");
  CHECK(error_of([](json& j) { j["offchip"]["bogus"] = 1; }) ==
        "cfg.json: /offchip/bogus: unknown key");
  CHECK(error_of([](json& j) { j["offchip"]["model"] = "hbm"; }) ==
        "cfg.json: /offchip/model: is \"hbm\", expected one of \"ideal\", \"lpddr4\"");
  CHECK(error_of([](json& j) { j["features"]["feedback_magnitudes"] = 3; }) ==
        "cfg.json: /features/feedback_magnitudes: must be a string");
  CHECK(error_of([](json& j) { j.erase("energy_table"); }) == "cfg.json: /energy_table: missing");
}
