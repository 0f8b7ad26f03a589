// egsim run on an SLU trace (egtrain --slu): a gated block's convolutions run for its active
// samples only (every phase's MACs, issued plus skipped, are N_active x the per-sample MACs),
// the gates are simulated as layers of their own, the functional check passes, and
// features.skip_unused_block_update decides whether a block no sample ran still updates.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "support/shell.hpp"
#include "support/temp_dir.hpp"
#include "workloads/trace.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
const std::string kBin = std::string(EGSIM_BINARY_DIR) + "/bin/";
const std::string kConfigs = std::string(EGSIM_SOURCE_DIR) + "/configs/";

using eg::testing::file_text;
using eg::testing::run_logged;

// ResNet-20 at width 0.25 on 8x8 synthetic images, batch 8, alpha 3, traced at iteration 10:
// its gated blocks are a mix of fully run, partly run (7 and 1 of 8 samples) and unused ones.
// `extra`: more egtrain flags (PSG, SMD) combined with SLU.
fs::path slu_trace(const eg::testing::TempDir& dir, const std::string& name = "trace",
                   const std::string& extra = "") {
  const fs::path trace = dir / name;
  const std::string cmd = kBin +
                          "egtrain --dataset synthetic --network resnet20 --width 0.25 --batch 8 "
                          "--slu --slu-alpha 3 --iterations 10 --trace-iteration 10 --threads 1 "
                          "--log-every 0 " +
                          extra + " --trace-out " + trace.string() + " --out " +
                          (dir / (name + ".train")).string();
  INFO(cmd);
  const int rc = run_logged(cmd, dir / "train.log");
  INFO(file_text(dir / "train.log"));
  REQUIRE(rc == 0);
  return trace;
}

json simulate(const eg::testing::TempDir& dir, const fs::path& config, const fs::path& trace,
              const std::string& name) {
  const std::string cmd = kBin + "egsim run --no-progress --config " + config.string() +
                          " --trace " + trace.string() + " --out " + (dir / name).string();
  const int rc = run_logged(cmd, dir / (name + ".log"));
  INFO(cmd << "\n" << file_text(dir / (name + ".log")));
  REQUIRE(rc == 0);
  CHECK(file_text(dir / (name + ".log")).find("functional check passed") != std::string::npos);
  return json::parse(file_text(dir / name / "report.json"));
}

const json& report_layer(const json& report, const std::string& name) {
  for (const json& l : report.at("layers"))
    if (l.at("name") == name) return l;
  FAIL("no layer " << name << " in the report");
  throw 0;
}

}  // namespace

TEST_CASE("a gated block's convolutions cost N_active times the per-sample MACs in every phase",
          "[array][slu]") {
  eg::testing::TempDir dir;
  const fs::path trace_dir = slu_trace(dir);
  const eg::trace::Trace trace = eg::trace::Trace::open(trace_dir);
  const eg::trace::Manifest& m = trace.manifest();
  REQUIRE(m.slu);
  for (const char* config : {"efficientgrad.json", "eyeriss_v2_bp.json"}) {
    INFO(config);
    const json report = simulate(dir, kConfigs + "hw/" + config, trace_dir, config);
    int partial = 0, unused = 0;
    for (const eg::trace::Layer& l : m.layers) {
      if (l.type != eg::trace::LayerType::Conv) continue;
      const std::vector<int64_t>* active = trace.active_samples(l.name);
      const int64_t n = active ? static_cast<int64_t>(active->size()) : m.batch;
      const int64_t per_sample = l.dense_macs() / m.batch;
      const json& phases = report_layer(report, l.name).at("phases");
      INFO(l.name << ": " << n << " of " << m.batch << " samples");
      if (n == 0) {
        ++unused;
        CHECK(phases.empty());  // skip_unused_block_update: not even the update
        continue;
      }
      if (active && n < m.batch) ++partial;
      for (const char* phase : {"forward", "backward", "weight_gradient"}) {
        if (!phases.contains(phase)) continue;  // the stem's backward does not run
        const json& f = phases.at(phase);
        CHECK(f.at("macs_issued").get<int64_t>() + f.at("macs_skipped").get<int64_t>() ==
              n * per_sample);
      }
    }
    CHECK(partial >= 2);  // the trace the test relies on: partly run blocks
    CHECK(unused >= 1);   // and a block no sample ran
    // The gates are layers of their own, charged like any pool and FC layer.
    for (const eg::trace::SluBlock& b : m.slu->blocks)
      for (const std::string& g : b.gate_layers)
        CHECK(report_layer(report, g).at("phases").at("forward").at("cycles").get<int64_t>() > 0);
  }
}

TEST_CASE("skip_unused_block_update false still runs the update of a block no sample ran",
          "[array][slu]") {
  eg::testing::TempDir dir;
  const fs::path trace_dir = slu_trace(dir);
  const eg::trace::Trace trace = eg::trace::Trace::open(trace_dir);
  json cfg = json::parse(file_text(kConfigs + "hw/eyeriss_v2_bp.json"));
  REQUIRE(cfg.at("features").at("skip_unused_block_update") == true);
  cfg["features"]["skip_unused_block_update"] = false;
  // The config names its DRAM and energy files relative to its own folder.
  for (json* field : {&cfg["offchip"]["dram_config"], &cfg["energy_table"]})
    if (field->is_string()) *field = kConfigs + "hw/" + field->get<std::string>();
  std::ofstream(dir / "cfg.json") << cfg.dump(1);
  const json on = simulate(dir, kConfigs + "hw/eyeriss_v2_bp.json", trace_dir, "on");
  const json off = simulate(dir, dir / "cfg.json", trace_dir, "off");
  int unused = 0;
  for (const eg::trace::Layer& l : trace.manifest().layers) {
    const std::vector<int64_t>* active = trace.active_samples(l.name);
    if (l.type != eg::trace::LayerType::Conv || !active || !active->empty()) continue;
    ++unused;
    CHECK(report_layer(on, l.name).at("phases").empty());
    const json& phases = report_layer(off, l.name).at("phases");
    CHECK(phases.size() == 1);
    CHECK(phases.at("weight_update").at("cycles").get<int64_t>() > 0);
  }
  CHECK(unused >= 1);
  CHECK(off.at("totals").at("cycles").get<int64_t>() > on.at("totals").at("cycles").get<int64_t>());
}

TEST_CASE("an slu run is deterministic: the same seed writes the same trace", "[array][slu]") {
  eg::testing::TempDir dir;
  const fs::path a = slu_trace(dir, "a"), b = slu_trace(dir, "b");
  CHECK(file_text(a / "manifest.json") == file_text(b / "manifest.json"));
  const eg::trace::Trace t = eg::trace::Trace::open(a);
  REQUIRE(t.manifest().slu);
  for (const eg::trace::SluBlock& blk : t.manifest().slu->blocks) {
    CHECK(file_text(a / blk.mask) == file_text(b / blk.mask));
    CHECK(file_text(a / blk.probabilities) == file_text(b / blk.probabilities));
  }
  CHECK(file_text(a / "layer1.1.conv1.dw.npy") == file_text(b / "layer1.1.conv1.dw.npy"));
}

TEST_CASE("an slu run resumed from a checkpoint ends with the metrics of an uninterrupted one",
          "[array][slu]") {
  // The controller's alpha and the epoch's skip sums are part of the checkpoint.
  eg::testing::TempDir dir;
  const std::string run = kBin +
                          "egtrain --dataset synthetic --network resnet20 --width 0.25 --batch 8 "
                          "--slu-target-skip 0.3 --epochs 2 --threads 1 --log-every 0 --out ";
  REQUIRE(run_logged(run + (dir / "whole").string(), dir / "whole.log") == 0);
  REQUIRE(run_logged(run + (dir / "split").string() + " --iterations 70 --checkpoint-every 10",
                     dir / "first.log") == 0);
  const int rc = run_logged(run + (dir / "split").string() + " --resume", dir / "second.log");
  INFO(file_text(dir / "second.log"));
  REQUIRE(rc == 0);
  const json whole = json::parse(file_text(dir / "whole" / "metrics.json"));
  CHECK(whole.at("epochs").at(1).at("slu").at("blocks").size() == 7);
  CHECK(file_text(dir / "whole" / "metrics.json") == file_text(dir / "split" / "metrics.json"));
}

TEST_CASE("PSG on SLU-gated blocks: the trace's predictor decisions hold on N_active samples",
          "[array][slu][psg]") {
  // A gated conv runs its N_active samples padded to a power of two (OnednnConv batch buckets);
  // PSG's predictor must see the same samples, or the trace's mask disagrees with the simulator's
  // predictor on the active rows.
  eg::testing::TempDir dir;
  const fs::path trace_dir = slu_trace(dir, "trace", "--weight-gradient psg");
  const eg::trace::Trace trace = eg::trace::Trace::open(trace_dir);
  REQUIRE(trace.manifest().weight_gradient);
  bool odd_partial = false;  // a block whose active count is not a power of two
  for (const eg::trace::Layer& l : trace.manifest().layers)
    if (const std::vector<int64_t>* active = trace.active_samples(l.name)) {
      const auto n = static_cast<int64_t>(active->size());
      if (n > 0 && (n & (n - 1)) != 0) odd_partial = true;
    }
  CHECK(odd_partial);
  for (const char* config : {"hw/efficientgrad.json", "hw/eyeriss_v2_bp.json"}) {
    const json report =
        simulate(dir, kConfigs + config, trace_dir, std::string("sim-") + config[3]);
    CHECK(report.at("totals").at("cycles").get<int64_t>() > 0);
  }
}

TEST_CASE("SMD, PSG and SLU combine in one run, and its trace passes the check",
          "[array][slu][psg][smd]") {
  eg::testing::TempDir dir;
  const fs::path trace_dir =
      slu_trace(dir, "trace", "--weight-gradient psg --smd-drop-prob 0.5 --seed 3");
  const eg::trace::Trace trace = eg::trace::Trace::open(trace_dir);
  const auto& m = trace.manifest();
  REQUIRE(m.smd);
  CHECK(m.smd->drop_prob == 0.5);
  CHECK(m.weight_gradient);
  REQUIRE(m.slu);
  CHECK(!m.slu->blocks.empty());
  simulate(dir, kConfigs + "hw/efficientgrad.json", trace_dir, "sim");
}
