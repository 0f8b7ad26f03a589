// scripts/study_tables.py on a hand-made sweep folder: its ratios are against the BP reference
// point, only the points sweep.json lists count, the traced SLU skip is read from the trace's mask
// files, the interleaved schedule is set
// against the separate one per layer type, and a folder that is not a finished sweep gives one
// line and exit code 1.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/shell.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kScript = std::string(EGSIM_SOURCE_DIR) + "/scripts/study_tables.py";

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A float32 .npy file of `values` (what the trainer writes for a mask).
void write_npy(const fs::path& p, const std::vector<float>& values) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(values.size()) + ",), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  write(p, bytes);
}

json row(int index, const std::string& key, double cycles, double energy, double dram) {
  return {{"index", index},
          {"mode", "bp"},
          {"pruning_rate", 0.0},
          {"smd_drop_prob", 0.0},
          {"weight_gradient", "exact"},
          {"slu_target_skip", 0.0},
          {"grad_filter", 0},
          {"trainable_last", 0},
          {"backward_schedule", "separate"},
          {"hw_config", "/x/eyeriss_v2_bp.json"},
          {"trace_key", key},
          {"test_accuracy", 0.9},
          {"iterations_executed", 100},
          {"iterations_nominal", 100},
          {"cycles_total", cycles},
          {"energy_pj_total", energy},
          {"energy_pj_run_total", energy * 100},
          {"dram_bytes", dram}};
}

void add_point(const fs::path& sweep, const std::string& id, const json& r) {
  write(sweep / "points" / id / "result.json", json{{"row", r}}.dump());
}

// One layer's backward and weight-gradient figures in a report.
json layer(const std::string& name, uint64_t cycles, uint64_t dram) {
  json phase = {{"cycles", cycles},
                {"dram", {{"read_bytes", dram}, {"write_bytes", 0}}},
                {"actions", {{"glb_iact_read_bits", cycles}, {"mac_16x8", 5}}},
                {"energy_pj", {{"total", double(dram)}}}};
  return {{"name", name}, {"phases", {{"backward", phase}, {"weight_gradient", phase}}}};
}

std::string run(const std::string& args, int& code, const fs::path& log) {
  const int status = eg::testing::run_logged("/usr/bin/python3 " + kScript + " " + args, log);
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return eg::testing::file_text(log);
}

}  // namespace

TEST_CASE("study_tables.py e2train: ratios against BP, whole-run energy and the traced SLU skip",
          "[scripts][study]") {
  eg::testing::TempDir dir("egtables");
  const fs::path sweep = dir / "sweep";
  add_point(sweep, "bp", row(0, "k0", 1e6, 2e9, 4e6));
  json smd = row(1, "k1", 1e6, 2e9, 4e6);
  smd["smd_drop_prob"] = 0.5;
  smd["iterations_executed"] = 50;
  smd["energy_pj_run_total"] = 2e9 * 50;
  add_point(sweep, "smd", smd);
  json slu = row(2, "k2", 8e5, 1.5e9, 3e6);
  slu["slu_target_skip"] = 0.4;
  add_point(sweep, "slu", slu);
  write(sweep / "traces/k2/train/metrics.json",
        json{{"epochs", {{{"slu", {{"skip", 0.38}}}}}}}.dump());
  write(sweep / "traces/k2/trace/manifest.json",
        json{{"slu", {{"blocks", {{{"mask", "a.npy"}}, {{"mask", "b.npy"}}}}}}}.dump());
  write_npy(sweep / "traces/k2/trace/a.npy", {1, 0, 1, 1});  // 25% skipped
  write_npy(sweep / "traces/k2/trace/b.npy", {1, 1, 1, 0});  // 25% skipped
  // A point of an earlier version of the config, which sweep.json no longer lists.
  json stale = row(3, "k3", 1e6, 1e9, 4e6);
  stale["mode"] = "fa";
  add_point(sweep, "stale", stale);
  write(sweep / "sweep.json",
        json{{"points", {{{"id", "bp"}}, {{"id", "smd"}}, {{"id", "slu"}}}}}.dump());

  int code = 0;
  const std::string out = run("e2train " + sweep.string(), code, dir / "log");
  INFO(out);
  CHECK(code == 0);
  CHECK_THAT(out,
             Catch::Contains("| BP | eyeriss_v2_bp | 90.00% | 100 / 100 |  | 1.000 M | 1.000 |"));
  // SMD: the same step, half the steps: whole-run energy 0.5.
  CHECK_THAT(out, Catch::Contains("| SMD 0.5 | eyeriss_v2_bp | 90.00% | 50 / 100 |"));
  CHECK_THAT(out, Catch::Contains("| 1.000 | 1.000 | 0.500 |"));
  // SLU: 38% over the last epoch, 25% in both blocks' masks at the traced step; 0.75x energy.
  CHECK_THAT(out, Catch::Contains("| SLU 0.4 | eyeriss_v2_bp | 90.00% | 100 / 100 | 38% / 25% |"));
  CHECK_THAT(out, Catch::Contains("| 0.800 M | 0.800 | 1500 µJ | 0.750 | 0.750 | 0.750 |"));
  CHECK_THAT(out, !Catch::Contains("| fa |"));
}

TEST_CASE(
    "study_tables.py schemes: the interleaved schedule against the separate one per layer "
    "type",
    "[scripts][study]") {
  eg::testing::TempDir dir("egtables");
  const fs::path sweep = dir / "sweep";
  add_point(sweep, "bp", row(0, "k0", 1e6, 2e9, 4e6));
  json inter = row(1, "k0", 1.1e6, 1.8e9, 3e6);
  inter["backward_schedule"] = "interleaved";
  add_point(sweep, "bp-interleaved", inter);
  write(sweep / "traces/k0/trace/manifest.json",
        json{{"layers",
              {{{"name", "c3"}, {"type", "conv"}, {"kernel", {3, 3}}},
               {{"name", "c1"}, {"type", "conv"}, {"kernel", {1, 1}}},
               {{"name", "fc"}, {"type", "fc"}},
               {{"name", "relu"}, {"type", "relu"}}}}}
            .dump());
  write(sweep / "points/bp/sim/report.json", json{{"layers",
                                                   {layer("c3", 100, 1000), layer("c1", 10, 400),
                                                    layer("fc", 4, 40), layer("relu", 7, 7)}}}
                                                 .dump());
  write(
      sweep / "points/bp-interleaved/sim/report.json",
      json{{"layers",
            {layer("c3", 110, 500), layer("c1", 10, 300), layer("fc", 2, 40), layer("relu", 7, 7)}}}
          .dump());
  int code = 0;
  const std::string out = run("schemes " + sweep.string(), code, dir / "log");
  INFO(out);
  CHECK(code == 0);
  CHECK_THAT(out,
             Catch::Contains("| bp | eyeriss_v2_bp | interleaved | 90.00% | 1.100 M | 1.100 |"));
  // Both phases summed per type; the ReLU is no layer type of the table.
  CHECK_THAT(out, Catch::Contains("| bp | conv 3x3 | 200 → 220 | 1.100 | 2000 → 1000 | 0.500 |"));
  CHECK_THAT(out, Catch::Contains("| bp | conv 1x1 | 20 → 20 | 1.000 | 800 → 600 | 0.750 |"));
  CHECK_THAT(out, Catch::Contains("| bp | FC | 8 → 4 | 0.500 | 80 → 80 | 1.000 |"));
  CHECK_THAT(out, !Catch::Contains("relu"));
  // A report without a layer's phase figures: one line naming the point, exit code 1.
  write(sweep / "points/bp/sim/report.json",
        json{{"layers", {{{"name", "c3"}, {"phases", {{"backward", {{"cycles", 1}}}}}}}}}.dump());
  const std::string bad = run("schemes " + sweep.string(), code, dir / "log");
  CHECK(code == 1);
  CHECK_THAT(bad, Catch::StartsWith("study_tables.py: the simulator report of point bp (") &&
                      Catch::Contains("unexpected contents (KeyError: 'dram')"));
  CHECK(std::count(bad.begin(), bad.end(), '\n') == 1);
}

TEST_CASE("study_tables.py refuses what is not a finished sweep with one line and exit code 1",
          "[scripts][study]") {
  eg::testing::TempDir dir("egtables");
  fs::create_directories(dir / "empty/points");
  fs::create_directories(dir / "nobp");
  json other = row(0, "k0", 1, 1, 1);
  other["mode"] = "fa";
  add_point(dir / "nobp", "fa", other);
  write(dir / "bad/points/x/result.json", "{not json");
  json partial = row(0, "k0", 1, 1, 1);
  partial.erase("cycles_total");
  add_point(dir / "partial", "bp", partial);
  json wrong = row(0, "k0", 1, 1, 1);
  wrong["dram_bytes"] = "many";
  add_point(dir / "wrong", "bp", wrong);
  const std::vector<std::pair<std::string, std::string>> cases{
      {"e2train " + (dir / "none").string(), "not a sweep folder (no points/)"},
      {"e2train " + (dir / "empty").string(), "no finished point"},
      {"schemes " + (dir / "nobp").string(), "no back-propagation reference point"},
      {"schemes " + (dir / "bad").string(), "not valid JSON"},
      {"e2train " + (dir / "partial").string(),
       (dir / "partial/points/bp/result.json").string() + ": /row/cycles_total: missing"},
      {"e2train " + (dir / "wrong").string(),
       (dir / "wrong/points/bp/result.json").string() + ": /row/dram_bytes: must be a number"},
      {"table " + (dir / "empty").string(), "invalid choice"}};
  for (const auto& [args, message] : cases) {
    INFO(args);
    int code = 0;
    const std::string out = run(args, code, dir / "log");
    CHECK(code != 0);
    CHECK_THAT(out, Catch::Contains(message));
  }
}
