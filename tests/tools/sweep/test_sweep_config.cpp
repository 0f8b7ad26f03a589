// Sweep config parsing, grid expansion and point identity; bad configs rejected by JSON path.
#include <catch2/catch.hpp>

#include <set>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "sweep_test_support.hpp"
#include "tools/sweep/sweep_config.hpp"

using eg::sweep::parse_sweep;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = fs::path(EGSIM_SOURCE_DIR) / "tests/tools/sweep/virtual.json";

using eg::testing::rejection;

}  // namespace

TEST_CASE("grid expands in documented order with stable, distinct ids") {
  const auto sweep = parse_sweep(eg::testing::tiny_sweep_json(), kSource);
  REQUIRE(sweep.points.size() == 4);
  CHECK(sweep.points[0].pruning_rate == 0.0);
  CHECK(sweep.points[1].pruning_rate == 0.5);
  CHECK(sweep.points[2].pruning_rate == 0.9);
  CHECK(sweep.points[3].mode == "bp");
  CHECK(sweep.points[3].label == "reference");
  std::set<std::string> ids, keys;
  for (const auto& p : sweep.points) {
    CHECK(p.index == static_cast<int>(ids.size()));
    ids.insert(p.id);
    keys.insert(p.trace_key);
  }
  CHECK(ids.size() == 4);
  CHECK(keys.size() == 4);
  CHECK(sweep.points[1].id.rfind("efficientgrad-p0.5-resnet20-synthetic-s1-hw_efficientgrad-", 0) ==
        0);
  // Same input, same identity (directories found again by a restarted sweep).
  const auto again = parse_sweep(eg::testing::tiny_sweep_json(), kSource);
  for (size_t i = 0; i < 4; ++i) CHECK(again.points[i].id == sweep.points[i].id);
}

TEST_CASE("trace key covers training, not hardware") {
  json config = eg::testing::tiny_sweep_json();
  config["grids"][0]["hw_configs"].push_back(
      eg::testing::sweep_fixture("hw_baseline.json").string());
  const auto sweep = parse_sweep(config, kSource);
  REQUIRE(sweep.points.size() == 7);
  // P=0 on two hardware configs: one trace, two points.
  CHECK(sweep.points[0].trace_key == sweep.points[1].trace_key);
  CHECK(sweep.points[0].id != sweep.points[1].id);
  json changed = config;
  changed["training"]["iterations"] = 3;
  const auto other = parse_sweep(changed, kSource);
  CHECK(other.points[0].trace_key != sweep.points[0].trace_key);
  CHECK(other.points[0].id != sweep.points[0].id);
}

TEST_CASE("trainer arguments carry the point and the budget") {
  const auto sweep = parse_sweep(eg::testing::tiny_sweep_json(), kSource);
  const auto args = sweep.trainer_args(sweep.points[1]);
  const std::vector<std::string> expected{
      "--network",      "resnet20", "--dataset",    "synthetic", "--mode",  "efficientgrad",
      "--pruning-rate", "0.5",      "--seed",       "1",         "--batch", "4",
      "--epochs",       "1",        "--iterations", "2",         "--width", "0.25"};
  CHECK(args == expected);
}

TEST_CASE("bad sweep configs are rejected naming the field") {
  json c = eg::testing::tiny_sweep_json();

  json unknown_mode = c;
  unknown_mode["grids"][0]["modes"][0] = "backprop";
  CHECK_THAT(rejection(unknown_mode), Catch::Contains("/grids/0/modes/0: unknown mode 'backprop'"));

  json empty_list = c;
  empty_list["grids"][1]["pruning_rates"] = json::array();
  CHECK_THAT(rejection(empty_list), Catch::Contains("/grids/1/pruning_rates: empty grid"));

  json no_grids = c;
  no_grids["grids"] = json::array();
  CHECK_THAT(rejection(no_grids), Catch::Contains("/grids: empty grid"));

  json rate_one = c;
  rate_one["grids"][0]["pruning_rates"][2] = 1.0;
  CHECK_THAT(rejection(rate_one),
             Catch::Contains("/grids/0/pruning_rates/2: pruning rate 1 outside [0, 1)"));

  json negative = c;
  negative["grids"][0]["pruning_rates"][0] = -0.1;
  CHECK_THAT(rejection(negative), Catch::Contains("/grids/0/pruning_rates/0"));

  json unknown_key = c;
  unknown_key["grids"][0]["pruning_rate"] = json::array({0.5});
  CHECK_THAT(rejection(unknown_key), Catch::Contains("/grids/0/pruning_rate: unknown key"));

  json unknown_training = c;
  unknown_training["training"]["epoch"] = 2;
  CHECK_THAT(rejection(unknown_training), Catch::Contains("/training/epoch: unknown key"));

  json top_key = c;
  top_key["jobs"] = 2;
  CHECK_THAT(rejection(top_key), Catch::Contains(": /jobs: unknown key"));

  json missing_hw = c;
  missing_hw["grids"][0]["hw_configs"][0] = "no_such_config.json";
  CHECK_THAT(rejection(missing_hw), Catch::Contains("/grids/0/hw_configs/0: hardware config"));

  json bp_pruned = c;
  bp_pruned["grids"][1]["pruning_rates"] = json::array({0.5});
  CHECK_THAT(rejection(bp_pruned), Catch::Contains("has no effect on mode 'bp'"));

  json wrong_type = c;
  wrong_type["training"]["batch"] = "4";
  CHECK_THAT(rejection(wrong_type), Catch::Contains("/training/batch: must be an integer"));

  json duplicate = c;
  duplicate["grids"].push_back(c["grids"][1]);
  CHECK_THAT(rejection(duplicate), Catch::Contains("/grids/2: duplicate point"));

  // Every message names the file.
  CHECK_THAT(rejection(unknown_mode), Catch::StartsWith(kSource.string() + ": "));
}

TEST_CASE("the command rejects a bad config with non-zero exit and writes nothing") {
  eg::testing::TempDir dir("sweep-badcfg");
  json c = eg::testing::tiny_sweep_json();
  c["grids"][0]["modes"][0] = "nope";
  const auto config = eg::testing::write_config(dir.path(), c);
  const auto run = eg::testing::run_sweep_cli(
      {"--config", config.string(), "--out", (dir / "out").string()}, dir / "log.txt");
  CHECK(run.code != 0);
  CHECK_THAT(run.output, Catch::Contains("/grids/0/modes/0: unknown mode 'nope'"));
  CHECK(!fs::exists(dir / "out"));
}

TEST_CASE("the shipped sweep configs parse") {
  for (const char* name : {"pruning.json", "tiny.json", "smd.json", "e2train.json"}) {
    const fs::path file = fs::path(EGSIM_SOURCE_DIR) / "configs" / "sweeps" / name;
    INFO(file.string());
    // They refer to configs/hw/*.json, which the array work provides; skip until those exist.
    if (!fs::exists(fs::path(EGSIM_SOURCE_DIR) / "configs/hw/efficientgrad.json")) {
      WARN("configs/hw/efficientgrad.json not present yet; " << name << " not checked");
      continue;
    }
    const auto sweep = eg::sweep::load_sweep(file);
    CHECK(!sweep.points.empty());
  }
}
