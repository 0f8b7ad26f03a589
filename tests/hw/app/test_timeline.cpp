// `egsim run --timeline FILE` and the progress line: the trace-event JSON parses, its layer and
// phase spans are the report's cycles in run order, its DMA events carry each phase's DRAM bytes
// by data class, its bandwidth counter integrates to the DRAM bytes, its cluster tracks are named
// accelerator.pcN and hold every busy PE-cycle; it changes no figure of the report, follows
// --layers and never replaces a file egsim did not write. Progress shows only when asked for or on
// a terminal.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kBin = std::string(EGSIM_BINARY_DIR) + "/bin/";
const std::string kConfig = std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json";

int sh(const std::string& cmd, const fs::path& out, const fs::path& err) {
  const int status =
      std::system((cmd + " >" + out.string() + " 2>" + err.string() + " </dev/null").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Fixture {
  eg::testing::TempDir dir{"egsim-timeline"};
  Fixture() {
    REQUIRE(sh(kBin + "egsim_make_trace " + (dir / "trace").string() + " tiny 0.5 7",
               dir / "gen.log", dir / "gen.err") == 0);
  }
  int run(const fs::path& out, const std::string& extra) {
    return sh(kBin + "egsim run --config " + kConfig + " --trace " + (dir / "trace").string() +
                  " --out " + out.string() + " " + extra,
              dir / "stdout.txt", dir / "stderr.txt");
  }
  std::string err() const { return slurp(dir / "stderr.txt"); }
};

struct Timeline {
  json doc;
  std::map<int, std::string> tracks;  // tid -> thread name
  std::vector<json> of(const std::string& category) const {
    std::vector<json> out;
    for (const json& e : doc["traceEvents"])
      if (e["ph"] == "X" && e["cat"] == category) out.push_back(e);
    return out;
  }
};

Timeline load(const fs::path& file) {
  Timeline t;
  t.doc = json::parse(slurp(file));
  for (const json& e : t.doc["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name")
      t.tracks[e["tid"].get<int>()] = e["args"]["name"].get<std::string>();
  return t;
}

const json& layer_of(const json& report, const std::string& name) {
  for (const json& l : report["layers"])
    if (l["name"] == name) return l;
  FAIL("no layer " << name << " in the report");
  return report;
}

}  // namespace

TEST_CASE("A timeline's phase spans follow the run in order and last the report's cycles",
          "[timeline][cli]") {
  Fixture f;
  REQUIRE(f.run(f.dir / "out", "--timeline " + (f.dir / "t.json").string()) == 0);
  const json report = json::parse(slurp(f.dir / "out" / "report.json"));
  const Timeline t = load(f.dir / "t.json");
  const double mhz = report["clock_mhz"].get<double>();
  const std::vector<json> phases = t.of("phase");
  // Forward over the layers, then backward in reverse: the report has a span for each of its
  // layer x phases, and the spans tile the run without gaps.
  size_t report_phases = 0;
  for (const json& l : report["layers"]) report_phases += l["phases"].size();
  REQUIRE(phases.size() == report_phases);
  uint64_t cursor = 0;
  std::map<std::string, uint64_t> by_phase;
  for (const json& p : phases) {
    CHECK(t.tracks.at(p["tid"].get<int>()) == "accelerator");
    const json& a = p["args"];
    CHECK(a["begin_cycle"].get<uint64_t>() == cursor);
    cursor = a["end_cycle"].get<uint64_t>();
    const json& fig = layer_of(report, a["layer"])["phases"][p["name"].get<std::string>()];
    CHECK(a["cycles"] == fig["cycles"]);
    CHECK(p["dur"].get<double>() == Approx(fig["cycles"].get<double>() / mhz));
    CHECK(p["ts"].get<double>() == Approx(a["begin_cycle"].get<double>() / mhz));
    by_phase[p["name"]] += a["cycles"].get<uint64_t>();
  }
  CHECK(cursor == report["totals"]["cycles"].get<uint64_t>());
  for (const auto& [phase, cycles] : by_phase)
    CHECK(cycles == report["phases"][phase]["cycles"].get<uint64_t>());
  CHECK(phases.front()["args"]["layer"] == "conv1");
  CHECK(phases.front()["name"] == "forward");
  CHECK(phases.back()["args"]["layer"] == "conv1");
  CHECK(phases.back()["name"] == "weight_update");
  // Each layer span holds the phases that run back to back: one forward span per layer, one for
  // its backward phases, except the last layer, whose backward follows its forward at once.
  const std::vector<json> layers = t.of("layer");
  CHECK(layers.size() == 2 * report["layers"].size() - 1);
  CHECK(layers[report["layers"].size() - 1]["name"] == "fc");
  CHECK(layers[report["layers"].size() - 1]["args"]["cycles"] ==
        report["layers"].back()["phases"]["forward"]["cycles"].get<uint64_t>() +
            report["layers"].back()["phases"]["backward"]["cycles"].get<uint64_t>() +
            report["layers"].back()["phases"]["weight_gradient"]["cycles"].get<uint64_t>() +
            report["layers"].back()["phases"]["weight_update"]["cycles"].get<uint64_t>());
}

TEST_CASE("A timeline's DMA events add up to each phase's DRAM bytes by data class",
          "[timeline][cli]") {
  Fixture f;
  REQUIRE(f.run(f.dir / "out",
                "--timeline " + (f.dir / "t.json").string() + " --timeline-window-cycles 50") == 0);
  const json report = json::parse(slurp(f.dir / "out" / "report.json"));
  const Timeline t = load(f.dir / "t.json");
  const std::vector<json> dma = t.of("dma");
  REQUIRE(!dma.empty());
  int phases_with_traffic = 0;
  for (const json& p : t.of("phase")) {
    const uint64_t begin = p["args"]["begin_cycle"], end = p["args"]["end_cycle"];
    std::map<std::string, uint64_t> bytes;  // track -> DRAM bytes in this phase
    for (const json& d : dma) {
      const uint64_t b = d["args"]["begin_cycle"], e = d["args"]["end_cycle"];
      if (b >= begin && e <= end && b < end)
        bytes[t.tracks.at(d["tid"].get<int>())] += uint64_t(d["args"]["dram_bytes"]);
    }
    const json& dram =
        layer_of(report, p["args"]["layer"])["phases"][p["name"].get<std::string>()]["dram"];
    uint64_t total = 0;
    for (const auto& [cls, counts] : dram["by_class"].items())
      for (const char* dir : {"read", "write"}) {
        INFO(p["args"]["layer"] << " " << p["name"] << " " << cls << " " << dir);
        CHECK(bytes["accelerator.dma." + cls + "." + dir] ==
              counts[std::string(dir) + "_bytes"].get<uint64_t>());
        total += counts[std::string(dir) + "_bytes"].get<uint64_t>();
      }
    phases_with_traffic += total > 0;
  }
  CHECK(phases_with_traffic > 10);
  // The bandwidth counter holds each value until its next sample: integrated over time it is the
  // bytes the DRAM moved.
  std::vector<json> samples;
  for (const json& e : t.doc["traceEvents"])
    if (e["ph"] == "C") samples.push_back(e);
  REQUIRE(samples.size() > 2);
  double bytes = 0;
  for (size_t i = 0; i + 1 < samples.size(); ++i)
    bytes +=
        (samples[i]["args"]["read"].get<double>() + samples[i]["args"]["write"].get<double>()) *
        1e3 * (samples[i + 1]["ts"].get<double>() - samples[i]["ts"].get<double>());
  const json& d = report["totals"]["dram"];
  CHECK(bytes == Approx(d["read_bytes"].get<double>() + d["write_bytes"].get<double>()));
  CHECK(samples.back()["args"]["read"] == 0.0);
  CHECK(t.doc["otherData"]["bandwidth_window_cycles"] == 50);
}

TEST_CASE("A timeline has a track per cluster named accelerator.pcN holding every busy PE-cycle",
          "[timeline][cli]") {
  Fixture f;
  REQUIRE(f.run(f.dir / "out", "--timeline " + (f.dir / "t.json").string()) == 0);
  const json report = json::parse(slurp(f.dir / "out" / "report.json"));
  const Timeline t = load(f.dir / "t.json");
  std::set<std::string> names;
  for (const auto& [tid, name] : t.tracks) names.insert(name);
  for (int pc = 0; pc < 6; ++pc) CHECK(names.count("accelerator.pc" + std::to_string(pc)) == 1);
  uint64_t busy = 0, macs = 0, input_stalls = 0;
  std::set<std::string> kinds;
  for (const json& e : t.of("cluster")) {
    CHECK_THAT(t.tracks.at(e["tid"].get<int>()), Catch::StartsWith("accelerator.pc"));
    CHECK(e["dur"].get<double>() > 0);
    kinds.insert(e["name"].get<std::string>());
    busy += e["args"].value("busy_pe_cycles", uint64_t(0));
    macs += e["args"].value("macs_issued", uint64_t(0));
    // Input stalls: waits inside a pass, and waits of the PEs with work for DRAM.
    input_stalls += e["args"].value("wait_input_pe_cycles", uint64_t(0)) +
                    e["args"].value("stalled_pe_cycles", uint64_t(0));
  }
  CHECK(busy == report["totals"]["busy_pe_cycles"].get<uint64_t>());
  CHECK(macs == report["totals"]["macs_issued"].get<uint64_t>());
  CHECK(input_stalls == report["totals"]["stalls"]["input"].get<uint64_t>());
  CHECK(kinds.count("compute") == 1);
  CHECK(kinds.count("wait DRAM") == 1);
}

TEST_CASE("A timeline changes no figure of the report and follows --layers", "[timeline][cli]") {
  Fixture f;
  REQUIRE(f.run(f.dir / "plain", "") == 0);
  REQUIRE(f.run(f.dir / "traced", "--timeline " + (f.dir / "t.json").string()) == 0);
  CHECK(slurp(f.dir / "plain" / "report.json") == slurp(f.dir / "traced" / "report.json"));
  CHECK(slurp(f.dir / "plain" / "report.csv") == slurp(f.dir / "traced" / "report.csv"));

  REQUIRE(f.run(f.dir / "one", "--layers conv2 --timeline " + (f.dir / "one.json").string()) == 0);
  const Timeline t = load(f.dir / "one.json");
  std::set<std::string> layers;
  for (const json& p : t.of("phase")) layers.insert(p["args"]["layer"].get<std::string>());
  CHECK(layers == std::set<std::string>{"conv2"});
  CHECK(t.of("phase").size() == 4);
}

TEST_CASE("egsim run never replaces a timeline file it did not write", "[timeline][cli][safety]") {
  Fixture f;
  const fs::path mine = f.dir / "mine.json";
  std::ofstream(mine) << "my file";
  CHECK(f.run(f.dir / "out", "--timeline " + mine.string()) == 1);
  CHECK_THAT(f.err(), Catch::Contains(mine.string() + ": exists and was not written by egsim run"));
  CHECK(slurp(mine) == "my file");
  CHECK_FALSE(fs::exists(f.dir / "out"));  // refused before simulating; the new folder is gone
  // A timeline it wrote is replaced by the next run.
  const fs::path own = f.dir / "own.json";
  REQUIRE(f.run(f.dir / "out", "--timeline " + own.string()) == 0);
  REQUIRE(f.run(f.dir / "out", "--timeline " + own.string()) == 0);
  CHECK_NOTHROW(json::parse(slurp(own)));
  // Inside --out, next to the reports, the marker records both.
  REQUIRE(f.run(f.dir / "out", "--timeline " + (f.dir / "out" / "t.json").string()) == 0);
  const json marker = json::parse(slurp(f.dir / "out" / ".egsim-owned"));
  CHECK(marker["files"]["t.json"] == "egsim run");
  CHECK(marker["files"]["report.json"] == "egsim run");
  // Never over a report, a missing folder or a bad window.
  CHECK(f.run(f.dir / "out", "--timeline " + (f.dir / "out" / "report.json").string()) == 1);
  CHECK_THAT(f.err(), Catch::Contains("--timeline would overwrite the run's report.json"));
  CHECK(f.run(f.dir / "out", "--timeline " + (f.dir / "nowhere" / "t.json").string()) == 1);
  CHECK_THAT(f.err(), Catch::Contains("does not exist"));
  for (const char* bad : {"0", "-5", "ten", "99999999999999999999"}) {
    CHECK(f.run(f.dir / "out", "--timeline " + own.string() + " --timeline-window-cycles " + bad) ==
          1);
    CHECK_THAT(f.err(), Catch::Contains("--timeline-window-cycles"));
  }
}

TEST_CASE("egsim run shows progress on stderr only on a terminal or when asked",
          "[timeline][cli][progress]") {
  Fixture f;
  REQUIRE(f.run(f.dir / "out", "") == 0);
  CHECK(f.err().empty());  // stderr is a file here: nothing
  REQUIRE(f.run(f.dir / "out", "--progress") == 0);
  const std::string err = f.err();
  CHECK_THAT(err, Catch::Contains("layer 1/8 conv1 forward"));
  CHECK_THAT(err, Catch::Contains("Mcycles/s") && Catch::Contains("ETA"));
  CHECK(err.size() >= 4);
  CHECK(err.substr(err.size() - 4) == "\r\x1b[K");  // the line is erased at the end
  REQUIRE(f.run(f.dir / "out", "--no-progress") == 0);
  CHECK(f.err().empty());
  CHECK(f.run(f.dir / "out", "--progress --no-progress") == 1);
}
