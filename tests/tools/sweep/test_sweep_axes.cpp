// The sweep's E2-Train and gradient-filtering axes (weight_gradients, slu_target_skips,
// trainable_lasts, grad_filters), the backward_schedules hardware edit and the grid keys init_from
// and train_range: expansion, point identity (unchanged at every default), trace keys, the exact
// egtrain and egsim argument lists, validation, and a run end to end with the fake tools.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <tuple>

#include "../render/markup_check.hpp"
#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "sweep_test_support.hpp"
#include "tools/sweep/json_file.hpp"
#include "tools/sweep/stable_hash.hpp"
#include "tools/sweep/summary.hpp"
#include "tools/sweep/sweep_config.hpp"

using eg::sweep::parse_sweep;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = fs::path(EGSIM_SOURCE_DIR) / "tests/tools/sweep/virtual.json";

using eg::testing::rejection;

// The tiny sweep's reference grid (bp on the fake baseline) with PSG on and off and SLU at two
// target skips, simulated with both backward schedules.
json axes_sweep_json() {
  json c = eg::testing::tiny_sweep_json();
  c["grids"].erase(0);
  c["grids"][0]["weight_gradients"] = json::array({"exact", "psg"});
  c["grids"][0]["slu_target_skips"] = json::array({0, 0.2});
  c["grids"][0]["backward_schedules"] = json::array({"separate", "interleaved"});
  return c;
}

// A fine-tuning grid: the last 4 layers from a checkpoint, unfiltered and at R = 2 and 4.
json filtering_sweep_json(const fs::path& checkpoint) {
  json c = eg::testing::tiny_sweep_json();
  c["grids"].erase(0);
  c["grids"][0]["label"] = "gradient filtering";
  c["grids"][0]["trainable_lasts"] = json::array({4});
  c["grids"][0]["grad_filters"] = json::array({0, 2, 4});
  c["grids"][0]["init_from"] = checkpoint.string();
  c["grids"][0]["train_range"] = "100:200";
  return c;
}

fs::path write_checkpoint(const fs::path& dir, const std::string& bytes) {
  const fs::path file = dir / "checkpoint.bin";
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  return file;
}

// A copy of the fake baseline that already runs the interleaved schedule.
fs::path interleaved_hw(const fs::path& dir) {
  json hw = eg::sweep::read_json_file(eg::testing::sweep_fixture("hw_baseline.json"));
  hw["features"]["backward_schedule"] = "interleaved";
  // Its relative DRAM config and energy table stay valid from the fixtures folder only.
  hw["offchip"]["dram_config"] =
      (fs::path(EGSIM_SOURCE_DIR) / "configs/dram/lpddr4_3200_x32.json").string();
  hw["energy_table"] = (fs::path(EGSIM_SOURCE_DIR) / "configs/energy/horowitz45.json").string();
  return eg::testing::write_config(dir, hw, "hw_interleaved.json");
}

}  // namespace

TEST_CASE("training axes expand before hardware configs and backward schedules") {
  const auto sweep = parse_sweep(axes_sweep_json(), kSource);
  REQUIRE(sweep.points.size() == 8);
  // weight gradient, then SLU skip, then (fastest) the schedule.
  const char* rules[] = {"exact", "exact", "exact", "exact", "psg", "psg", "psg", "psg"};
  const double skips[] = {0, 0, 0.2, 0.2, 0, 0, 0.2, 0.2};
  for (int i = 0; i < 8; ++i) {
    INFO(i);
    const auto& p = sweep.points[i];
    CHECK(p.weight_gradient == rules[i]);
    CHECK(p.slu_target_skip == skips[i]);
    CHECK(p.backward_schedule == (i % 2 ? "interleaved" : "separate"));
    // The fixture has no backward_schedule (runs separate): only interleaved needs a copy.
    CHECK(p.hw_config_derived == (i % 2 == 1));
  }
  // The schedule is a hardware edit: one trace for both, two points.
  CHECK(sweep.points[0].trace_key == sweep.points[1].trace_key);
  CHECK(sweep.points[0].id != sweep.points[1].id);
  CHECK(sweep.points[0].hw_config_hash != sweep.points[1].hw_config_hash);
  std::set<std::string> keys;
  for (const auto& p : sweep.points) keys.insert(p.trace_key);
  CHECK(keys.size() == 4);
  CHECK(sweep.points[0].id.rfind("bp-p0-resnet20-synthetic-s1-hw_baseline-", 0) == 0);
  CHECK(sweep.points[1].id.rfind("bp-p0-resnet20-synthetic-s1-hw_baseline-interleaved-", 0) == 0);
  CHECK(sweep.points[6].id.rfind("bp-p0-psg-slu0.2-resnet20-synthetic-s1-hw_baseline-", 0) == 0);
  const json params = sweep.points[7].params();
  CHECK(params["weight_gradient"] == "psg");
  CHECK(params["slu_target_skip"] == 0.2);
  CHECK(params["backward_schedule"] == "interleaved");
  CHECK(params["trainable_last"] == 0);
  CHECK(params["grad_filter"] == 0);
  CHECK(params["init_from"].is_null());
  CHECK(params["train_range"].is_null());
}

TEST_CASE("points at every axis's default keep the identity they had before the axes existed") {
  const json plain = eg::testing::tiny_sweep_json();
  json defaults = plain;
  for (auto& grid : defaults["grids"]) {
    grid["weight_gradients"] = json::array({"exact"});
    grid["slu_target_skips"] = json::array({0});
    grid["trainable_lasts"] = json::array({0});
    grid["grad_filters"] = json::array({0});
    grid["backward_schedules"] = json::array({"separate"});
  }
  const auto a = parse_sweep(plain, kSource), b = parse_sweep(defaults, kSource);
  REQUIRE(a.points.size() == b.points.size());
  for (size_t i = 0; i < a.points.size(); ++i) {
    INFO(i);
    CHECK(a.points[i].id == b.points[i].id);
    CHECK(a.points[i].trace_key == b.points[i].trace_key);
    CHECK(a.points[i].hw_config_hash == b.points[i].hw_config_hash);
    CHECK_FALSE(b.points[i].hw_config_derived);
    CHECK(a.trainer_args(a.points[i]) == b.trainer_args(b.points[i]));
  }
  // The trace key hashes exactly the fields it had before.
  const json before{{"trace_format", 1},
                    {"network", "resnet20"},
                    {"dataset", "synthetic"},
                    {"mode", "bp"},
                    {"pruning_rate", 0.0},
                    {"seed", 1},
                    {"training", plain["training"]}};
  CHECK(b.points[3].trace_key == eg::sweep::stable_hash(before));
}

TEST_CASE("every value that changes the training changes the trace key") {
  eg::testing::TempDir dir("sweep-axes-keys");
  const fs::path checkpoint = write_checkpoint(dir.path(), "weights v1");
  const json base = filtering_sweep_json(checkpoint);
  const auto reference = parse_sweep(base, kSource).points.at(1);  // K = 4, R = 2
  auto key_with = [&](const char* key, const json& value) {
    json c = base;
    c["grids"][0][key] = value;
    return parse_sweep(c, kSource).points.at(0).trace_key;
  };
  // Same point except one value (the first point of each variant).
  const std::string k4_r2 = key_with("grad_filters", json::array({2}));
  CHECK(k4_r2 == reference.trace_key);
  CHECK(key_with("grad_filters", json::array({4})) != k4_r2);
  json k8 = base;
  k8["grids"][0]["grad_filters"] = json::array({2});
  k8["grids"][0]["trainable_lasts"] = json::array({8});
  CHECK(parse_sweep(k8, kSource).points[0].trace_key != k4_r2);
  json other_range = base;
  other_range["grids"][0]["grad_filters"] = json::array({2});
  other_range["grids"][0]["train_range"] = "100:300";
  CHECK(parse_sweep(other_range, kSource).points[0].trace_key != k4_r2);
  json no_range = base;
  no_range["grids"][0]["grad_filters"] = json::array({2});
  no_range["grids"][0].erase("train_range");
  CHECK(parse_sweep(no_range, kSource).points[0].trace_key != k4_r2);
  json psg = base;
  psg["grids"][0]["grad_filters"] = json::array({2});
  psg["grids"][0]["weight_gradients"] = json::array({"psg"});
  CHECK(parse_sweep(psg, kSource).points[0].trace_key != k4_r2);
  json slu = base;
  slu["grids"][0]["grad_filters"] = json::array({2});
  slu["grids"][0]["slu_target_skips"] = json::array({0.4});
  CHECK(parse_sweep(slu, kSource).points[0].trace_key != k4_r2);
  // A grid's learning rate is another training; egtrain gets it as --lr.
  json fine = base;
  fine["grids"][0]["grad_filters"] = json::array({2});
  fine["grids"][0]["lr"] = 0.01;
  const auto fine_sweep = parse_sweep(fine, kSource);
  CHECK(fine_sweep.points[0].trace_key != k4_r2);
  const auto fine_args = fine_sweep.trainer_args(fine_sweep.points[0]);
  const auto lr_at = std::find(fine_args.begin(), fine_args.end(), "--lr");
  REQUIRE(lr_at != fine_args.end());
  CHECK(*(lr_at + 1) == "0.01");
  CHECK(fine_sweep.points[0].params()["lr"] == 0.01);
  CHECK(reference.params()["lr"].is_null());
  const auto plain_args = parse_sweep(base, kSource).trainer_args(reference);
  CHECK(std::find(plain_args.begin(), plain_args.end(), "--lr") == plain_args.end());
  // The checkpoint's contents, not its path: retrained weights are another training.
  write_checkpoint(dir.path(), "weights v2");
  CHECK(key_with("grad_filters", json::array({2})) != k4_r2);
  // A schedule is not training.
  json schedules = base;
  schedules["grids"][0]["grad_filters"] = json::array({2});
  schedules["grids"][0]["backward_schedules"] = json::array({"interleaved"});
  const auto scheduled = parse_sweep(schedules, kSource).points[0];
  CHECK(scheduled.trace_key == key_with("grad_filters", json::array({2})));
}

TEST_CASE("trainer arguments carry every axis away from its default, in a fixed order") {
  eg::testing::TempDir dir("sweep-axes-args");
  const fs::path checkpoint = write_checkpoint(dir.path(), "weights");
  json c = filtering_sweep_json(checkpoint);
  c["grids"][0]["smd_drop_probs"] = json::array({0.5});
  c["grids"][0]["weight_gradients"] = json::array({"psg"});
  c["grids"][0]["slu_target_skips"] = json::array({0.2});
  c["grids"][0]["grad_filters"] = json::array({2});
  const auto sweep = parse_sweep(c, kSource);
  REQUIRE(sweep.points.size() == 1);
  const std::vector<std::string> expected{"--network",
                                          "resnet20",
                                          "--dataset",
                                          "synthetic",
                                          "--mode",
                                          "bp",
                                          "--pruning-rate",
                                          "0.0",
                                          "--seed",
                                          "1",
                                          "--smd-drop-prob",
                                          "0.5",
                                          "--weight-gradient",
                                          "psg",
                                          "--slu",
                                          "--slu-target-skip",
                                          "0.2",
                                          "--trainable-last",
                                          "4",
                                          "--grad-filter",
                                          "2",
                                          "--init-from",
                                          checkpoint.string(),
                                          "--train-range",
                                          "100:200",
                                          "--batch",
                                          "4",
                                          "--epochs",
                                          "1",
                                          "--iterations",
                                          "2",
                                          "--width",
                                          "0.25"};
  CHECK(sweep.trainer_args(sweep.points[0]) == expected);
  CHECK(sweep.points[0].id.rfind("bp-p0-d0.5-psg-slu0.2-last4-gf2-resnet20-synthetic-s1-", 0) == 0);
  // A relative init_from is relative to the sweep config; the trainer gets it resolved.
  json relative = c;
  relative["grids"][0]["init_from"] = "checkpoint.bin";
  const auto resolved = parse_sweep(relative, dir / "sweep.json");
  CHECK(resolved.points[0].init_from == "checkpoint.bin");
  CHECK(resolved.points[0].init_from_path == checkpoint);
  CHECK(resolved.points[0].trace_key == sweep.points[0].trace_key);
}

TEST_CASE("the simulator runs the hardware config as written or the point's derived copy") {
  eg::testing::TempDir dir("sweep-axes-sim");
  const auto sweep = parse_sweep(axes_sweep_json(), kSource);
  const fs::path point_dir = dir / "points" / "x";
  const auto& separate = sweep.points[0];
  const auto& interleaved = sweep.points[1];
  CHECK(eg::sweep::simulator_args(separate, point_dir, "T", "S") ==
        std::vector<std::string>{"run", "--config",
                                 eg::testing::sweep_fixture("hw_baseline.json").string(), "--trace",
                                 "T", "--out", "S"});
  CHECK(eg::sweep::simulator_args(interleaved, point_dir, "T", "S") ==
        std::vector<std::string>{"run", "--config", (point_dir / "hw_config.json").string(),
                                 "--trace", "T", "--out", "S"});
  const json derived = eg::sweep::derived_hw_config(interleaved);
  CHECK(derived["features"]["backward_schedule"] == "interleaved");
  // Files named relative to the original resolve from the copy's folder too.
  const fs::path configs = fs::path(EGSIM_SOURCE_DIR) / "configs";
  CHECK(derived["energy_table"] == (configs / "energy/horowitz45.json").string());
  CHECK(derived["offchip"]["dram_config"] == (configs / "dram/lpddr4_3200_x32.json").string());
  // Everything else as in the original.
  json original = eg::sweep::read_json_file(eg::testing::sweep_fixture("hw_baseline.json"));
  json stripped = derived;
  stripped["features"]["backward_schedule"] = original["features"].value("backward_schedule", "");
  if (!original["features"].contains("backward_schedule"))
    stripped["features"].erase("backward_schedule");
  stripped["energy_table"] = original["energy_table"];
  stripped["offchip"]["dram_config"] = original["offchip"]["dram_config"];
  CHECK(stripped == original);
}

TEST_CASE("a hardware config that already interleaves is edited only to run separate") {
  eg::testing::TempDir dir("sweep-axes-ilv");
  json c = axes_sweep_json();
  c["grids"][0]["hw_configs"] = json::array({interleaved_hw(dir.path()).string()});
  c["grids"][0]["weight_gradients"] = json::array({"exact"});
  c["grids"][0]["slu_target_skips"] = json::array({0});
  const auto sweep = parse_sweep(c, kSource);
  REQUIRE(sweep.points.size() == 2);
  CHECK(sweep.points[0].backward_schedule == "separate");
  CHECK(sweep.points[0].hw_config_derived);
  CHECK(sweep.points[1].backward_schedule == "interleaved");
  CHECK_FALSE(sweep.points[1].hw_config_derived);
  // Named by what runs: the suffix marks the non-default schedule whichever file says it.
  CHECK(sweep.points[1].id.find("-hw_interleaved-interleaved-") != std::string::npos);
  CHECK(sweep.points[0].id.find("-hw_interleaved-interleaved-") == std::string::npos);
  // Without the axis the config runs as written, and the row says what it runs.
  json plain = c;
  plain["grids"][0].erase("backward_schedules");
  const auto as_written = parse_sweep(plain, kSource);
  REQUIRE(as_written.points.size() == 1);
  CHECK_FALSE(as_written.points[0].hw_config_derived);
  CHECK(as_written.points[0].params()["backward_schedule"] == "interleaved");
}

TEST_CASE("bad axis values are rejected naming the field") {
  eg::testing::TempDir dir("sweep-axes-bad");
  const fs::path checkpoint = write_checkpoint(dir.path(), "weights");
  const std::string file = kSource.string() + ": ";
  auto with = [&](const char* key, const json& value, json c = axes_sweep_json()) {
    c["grids"][0][key] = value;
    return rejection(c);
  };
  CHECK(with("weight_gradients", json::array({"exact", "sign"})) ==
        file +
            "/grids/0/weight_gradients/1: unknown weight-gradient rule 'sign' (expected "
            "exact, psg)");
  CHECK(with("weight_gradients", json::array({"psg", "psg"})) ==
        file +
            "/grids/0/weight_gradients/1: duplicate value \"psg\" (also at "
            "/grids/0/weight_gradients/0)");
  CHECK(with("weight_gradients", json::array()) ==
        file + "/grids/0/weight_gradients: empty grid: list at least one value");
  CHECK(with("slu_target_skips", json::array({0, 1})) ==
        file + "/grids/0/slu_target_skips/1: SLU target skip 1 outside [0, 1)");
  CHECK(with("slu_target_skips", json::array({-0.2})) ==
        file + "/grids/0/slu_target_skips/0: SLU target skip -0.2 outside [0, 1)");
  CHECK(with("slu_target_skips", json::array({0, -0.0})) ==
        file +
            "/grids/0/slu_target_skips/1: duplicate value 0.0 (also at "
            "/grids/0/slu_target_skips/0)");
  CHECK(with("slu_target_skips", json::array({"0.2"})) ==
        file + "/grids/0/slu_target_skips/0: must be a number");
  CHECK(with("trainable_lasts", json::array({-1})) ==
        file + "/grids/0/trainable_lasts/0: must be >= 0");
  CHECK(with("trainable_lasts", json::array({1001})) ==
        file + "/grids/0/trainable_lasts/0: trainable-last count 1001 above 1000");
  CHECK(with("trainable_lasts", json::array({2.5})) ==
        file + "/grids/0/trainable_lasts/0: must be an integer");
  json filtered = axes_sweep_json();
  filtered["grids"][0]["trainable_lasts"] = json::array({4});
  CHECK(with("grad_filters", json::array({1}), filtered) ==
        file + "/grids/0/grad_filters/0: gradient-filter patch size 1 must be 0 (off) or 2 to 32");
  CHECK(with("grad_filters", json::array({33}), filtered) ==
        file + "/grids/0/grad_filters/0: gradient-filter patch size 33 must be 0 (off) or 2 to 32");
  CHECK(with("grad_filters", json::array({2, 2}), filtered) ==
        file + "/grids/0/grad_filters/1: duplicate value 2 (also at /grids/0/grad_filters/0)");
  // Filtering applies to the last K layers: K = 0 (all train) is refused beside a filter.
  CHECK(with("grad_filters", json::array({0, 2})) ==
        file +
            "/grids/0/grad_filters/1: grad filter 2 needs trainable_lasts > 0 (it filters the "
            "last K layers, and trainable_last 0, the default, trains every layer)");
  filtered["grids"][0]["trainable_lasts"] = json::array({0, 4});
  CHECK_THAT(with("grad_filters", json::array({4}), filtered),
             Catch::EndsWith("/grids/0/grad_filters/0: grad filter 4 needs trainable_lasts > 0 (it "
                             "filters the last K layers, and trainable_last 0, the default, trains "
                             "every layer)"));
  CHECK(with("backward_schedules", json::array({"fused"})) ==
        file +
            "/grids/0/backward_schedules/0: unknown backward schedule 'fused' (expected "
            "separate, interleaved)");
  CHECK(with("backward_schedules", json::array({"separate", "separate"})) ==
        file +
            "/grids/0/backward_schedules/1: duplicate value \"separate\" (also at "
            "/grids/0/backward_schedules/0)");
  CHECK_THAT(with("init_from", "no_such_checkpoint.bin"),
             Catch::StartsWith(file + "/grids/0/init_from: checkpoint '") &&
                 Catch::EndsWith("no_such_checkpoint.bin' does not exist or is not a file"));
  CHECK_THAT(with("init_from", dir.path().string()),
             Catch::EndsWith("does not exist or is not a file"));
  CHECK(with("init_from", "") == file + "/grids/0/init_from: must name a checkpoint file");
  CHECK(with("init_from", 3) == file + "/grids/0/init_from: must be a string");
  for (const char* bad : {"", "100", "100:", ":200", "-1:5", "a:b", "1:2:3", " 1:2", "0x1:2"})
    CHECK(with("train_range", bad) ==
          file + "/grids/0/train_range: '" + bad +
              "' must be BEGIN:END, two whole numbers (training images [BEGIN, END))");
  CHECK(with("train_range", "200:100") ==
        file + "/grids/0/train_range: '200:100' is empty (BEGIN must be below END)");
  CHECK(with("train_range", "5:5") ==
        file + "/grids/0/train_range: '5:5' is empty (BEGIN must be below END)");
  CHECK(with("train_range", "0:1000000001") ==
        file + "/grids/0/train_range: end 1000000001 above 1000000000");
  CHECK(with("train_range", json::array({"0:5"})) ==
        file + "/grids/0/train_range: must be a string");
  CHECK_THAT(with("grad_filter", json::array({2})),
             Catch::StartsWith(file + "/grids/0/grad_filter: unknown key"));
  for (const json& bad : {json(0), json(-0.01), json(10.5)})
    CHECK(with("lr", bad) == file + "/grids/0/lr: must be above 0 and at most 10");
  CHECK(with("lr", "0.01") == file + "/grids/0/lr: must be a number");
  json both = axes_sweep_json();
  both["training"]["lr"] = 0.05;
  CHECK(with("lr", 0.01, both) ==
        file + "/grids/0/lr: the training block sets 'lr' for every point already");
  json extra = axes_sweep_json();
  extra["training"]["extra_args"] = json::array({"--lr=0.2"});
  CHECK(with("lr", 0.01, extra) ==
        file + "/grids/0/lr: training.extra_args sets --lr for every point already");
  (void)checkpoint;
}

TEST_CASE("flags and training-config keys that an axis sets are refused in the budget") {
  eg::testing::TempDir dir("sweep-axes-extra");
  const std::string file = kSource.string() + ": ";
  auto extra = [&](const std::vector<std::string>& args, json c = axes_sweep_json()) {
    c["training"]["extra_args"] = args;
    return rejection(c);
  };
  CHECK(extra({"--weight-gradient", "psg"}) ==
        file +
            "/training/extra_args/0: --weight-gradient is set per point by the grids' "
            "weight_gradients");
  CHECK(extra({"--lr", "0.1", "--slu-target-skip=0.3"}) ==
        file +
            "/training/extra_args/2: --slu-target-skip is set per point by the grids' "
            "slu_target_skips");
  CHECK(extra({"--trainable-last", "4"}) ==
        file +
            "/training/extra_args/0: --trainable-last is set per point by the grids' "
            "trainable_lasts");
  CHECK(extra({"--grad-filter", "2"}) ==
        file +
            "/training/extra_args/0: --grad-filter is set per point by the grids' "
            "grad_filters");
  CHECK(extra({"--init-from", "x.bin"}) ==
        file + "/training/extra_args/0: --init-from is set per grid by its init_from");
  CHECK(extra({"--train-range", "0:5"}) ==
        file + "/training/extra_args/0: --train-range is set per grid by its train_range");
  // --slu contradicts a skip axis (skip 0 = off) but is free without one.
  CHECK(extra({"--slu"}) ==
        file +
            "/training/extra_args/0: --slu is set per point by the grids' slu_target_skips "
            "(0 = off)");
  CHECK(extra({"--slu", "--slu-alpha", "1e-9"}, eg::testing::tiny_sweep_json()) == "accepted");
  CHECK(extra({"--psg-beta", "0.1", "--swa"}) == "accepted");
  // The same keys in the training config file.
  json train{{"network", "resnet20"}, {"grad-filter", 2}};
  const fs::path train_file = eg::testing::write_config(dir.path(), train, "train.json");
  json c = axes_sweep_json();
  c["training"]["config"] = train_file.string();
  CHECK(rejection(c) == file + "/training/config: '" + train_file.string() +
                            "' sets 'grad-filter', which is set per point by the grids' "
                            "grad_filters");
  train.erase("grad-filter");
  train["slu"] = true;
  eg::testing::write_config(dir.path(), train, "train.json");
  CHECK(rejection(c) == file + "/training/config: '" + train_file.string() +
                            "' sets 'slu', which the grids' slu_target_skips set per point");
  train.erase("slu");
  eg::testing::write_config(dir.path(), train, "train.json");
  CHECK(rejection(c) == "accepted");
}

TEST_CASE("a sweep over the new axes runs with a derived hardware config per interleaved point") {
  eg::testing::TempDir dir("sweep-axes-run");
  const fs::path checkpoint = write_checkpoint(dir.path(), "weights");
  json c = axes_sweep_json();
  c["grids"][0]["slu_target_skips"] = json::array({0.2});
  json filtering = filtering_sweep_json(checkpoint)["grids"][0];
  filtering["grad_filters"] = json::array({2});
  c["grids"].push_back(filtering);
  const fs::path config = eg::testing::write_config(dir.path(), c);
  const auto run = eg::testing::run_sweep_cli(
      {"--config", config.string(), "--out", (dir / "out").string(), "--jobs", "2"},
      dir / "log.txt");
  INFO(run.output);
  REQUIRE(run.code == 0);
  const auto sweep = eg::sweep::load_sweep(config);
  REQUIRE(sweep.points.size() == 5);
  for (const auto& point : sweep.points) {
    INFO(point.id);
    const fs::path folder = dir / "out" / "points" / point.id;
    CHECK(fs::exists(folder / "result.json"));
    // The copy is in the point's own folder, and only where the schedule needed an edit.
    CHECK(fs::exists(folder / "hw_config.json") == point.hw_config_derived);
    if (point.hw_config_derived)
      CHECK(eg::sweep::read_json_file(folder / "hw_config.json")["features"]["backward_schedule"] ==
            "interleaved");
    // The trainer got exactly the point's flags.
    const json done =
        eg::sweep::read_json_file(dir / "out" / "traces" / point.trace_key / "complete.json");
    CHECK(done["egtrain_args"] == json(sweep.trainer_args(point)));
  }
  const json summary = eg::sweep::read_json_file(dir / "out" / "summary.json");
  REQUIRE(summary["rows"].size() == 5);
  CHECK(summary["rows"][2]["weight_gradient"] == "psg");
  CHECK(summary["rows"][3]["backward_schedule"] == "interleaved");
  CHECK(summary["rows"][4]["grad_filter"] == 2);
  CHECK(summary["rows"][4]["trainable_last"] == 4);
  CHECK(summary["rows"][4]["train_range"] == "100:200");
  CHECK(summary["rows"][4]["init_from"] == checkpoint.string());
  CHECK(summary["rows"][0]["init_from"].is_null());
  const std::string csv = eg::testing::slurp(dir / "out" / "summary.csv");
  CHECK_THAT(
      csv.substr(0, csv.find('\n')),
      Catch::Contains(",smd_drop_prob,weight_gradient,slu_target_skip,trainable_last,"
                      "grad_filter,init_from,train_range,lr,seed,hw_config,backward_schedule,"));
  // The report's accuracy-against-energy chart labels every point; no dropping, no run chart.
  CHECK(fs::exists(dir / "out" / "plots" / "accuracy_vs_energy.svg"));
  CHECK_FALSE(fs::exists(dir / "out" / "plots" / "accuracy_vs_run_energy.svg"));
  const std::string svg = eg::testing::slurp(dir / "out" / "plots" / "accuracy_vs_energy.svg");
  CHECK(eg::testing::svg_problem(svg).empty());
  // One marker per point with a tooltip, plus one per legend entry (two grid labels).
  CHECK(std::count(svg.begin(), svg.end(), '\n') > 5);
  size_t markers = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1))
    ++markers;
  CHECK(markers == 5 + 2);
  CHECK_THAT(svg,
             Catch::Contains("PSG") && Catch::Contains("interleaved") && Catch::Contains("GF R2"));
  const std::string html = eg::testing::slurp(dir / "out" / "report.html");
  CHECK_THAT(html, Catch::Contains("Accuracy against energy"));
  // The derived configuration is listed among those used.
  const json description = eg::sweep::read_json_file(dir / "out" / "sweep.json");
  bool listed = false;
  for (const auto& item : description["hw_configs"].items())
    listed = listed || item.key().find("backward_schedule \"interleaved\"") != std::string::npos;
  CHECK(listed);
}

TEST_CASE("summary rows written before the axes existed read as their defaults") {
  eg::testing::TempDir dir("sweep-axes-old");
  const fs::path config = eg::testing::write_config(dir.path(), eg::testing::tiny_sweep_json());
  REQUIRE(eg::testing::run_sweep_cli({"--config", config.string(), "--out", (dir / "out").string()},
                                     dir / "log.txt")
              .code == 0);
  const json sweep = eg::sweep::read_json_file(dir / "out" / "sweep.json");
  const fs::path result =
      dir / "out" / "points" / sweep["points"][0]["id"].get<std::string>() / "result.json";
  json doc = eg::sweep::read_json_file(result);
  for (const char* key : {"weight_gradient", "slu_target_skip", "trainable_last", "grad_filter",
                          "init_from", "train_range", "backward_schedule"})
    doc["row"].erase(key);
  std::ofstream(result, std::ios::trunc) << doc.dump();
  const json summary = eg::sweep::build_summary(dir / "out");
  REQUIRE(summary["points_done"] == 4);
  const json& row = summary["rows"][0];
  CHECK(row["weight_gradient"] == "exact");
  CHECK(row["slu_target_skip"] == 0.0);
  CHECK(row["trainable_last"] == 0);
  CHECK(row["grad_filter"] == 0);
  CHECK(row["backward_schedule"] == "separate");
  CHECK(row["init_from"].is_null());
  CHECK(row["train_range"].is_null());
}

TEST_CASE("the shipped e2train sweep crosses SMD, PSG and SLU next to EfficientGrad") {
  const fs::path file = fs::path(EGSIM_SOURCE_DIR) / "configs/sweeps/e2train.json";
  const auto sweep = eg::sweep::load_sweep(file);
  REQUIRE(sweep.points.size() == 13);
  std::set<std::string> keys;
  std::set<std::tuple<double, std::string, double>> crossed;
  for (const auto& p : sweep.points) {
    keys.insert(p.trace_key);
    if (p.mode == "bp") crossed.emplace(p.smd_drop_prob, p.weight_gradient, p.slu_target_skip);
  }
  CHECK(keys.size() == 13);  // every point is its own training
  CHECK(crossed.size() == 12);
  // Plain BP on the baseline is the grid's first point: no E2-Train flag at all.
  const auto args = sweep.trainer_args(sweep.points[0]);
  for (const char* flag : {"--smd-drop-prob", "--weight-gradient", "--slu", "--slu-target-skip"})
    CHECK(std::find(args.begin(), args.end(), flag) == args.end());
  CHECK(sweep.points[0].hw_config_path.filename() == "eyeriss_v2_bp.json");
  CHECK(sweep.points[12].mode == "efficientgrad");
  CHECK(sweep.points[12].pruning_rate == 0.9);
  CHECK(sweep.points[12].hw_config_path.filename() == "efficientgrad.json");
}

TEST_CASE("the shipped schemes sweep loads once its pretraining exists") {
  eg::testing::TempDir dir("sweep-schemes");
  const fs::path file = fs::path(EGSIM_SOURCE_DIR) / "configs/sweeps/schemes.json";
  json config = eg::sweep::read_json_file(file);
  // It names the pretraining scripts/schemes_study.sh writes by default; until then it is refused
  // naming that checkpoint, rather than fine-tuning a network that was never pretrained.
  const json& filtering = config["grids"][3];
  REQUIRE(filtering["init_from"] == "../../out/schemes_study/pretrain/checkpoint.bin");
  const fs::path checkpoint = write_checkpoint(dir.path(), "pretrained weights");
  config["grids"][3]["init_from"] = checkpoint.string();
  const auto sweep = parse_sweep(config, file);
  REQUIRE(sweep.points.size() == 16);
  std::set<std::string> keys;
  for (const auto& p : sweep.points) {
    keys.insert(p.trace_key);
    CHECK(p.train_range == "30000:60000");
    // The fine-tunings (the last grid) at their own learning rate, the rest at the config's.
    CHECK(p.lr == (p.index >= 10 ? 0.01 : 0.0));
  }
  CHECK(keys.size() == 8);  // both schedules of a scheme share its training
  std::set<std::string> schedules;
  for (size_t i = 10; i < 16; ++i) {
    const auto& p = sweep.points[i];
    INFO(p.id);
    schedules.insert(p.backward_schedule);
    CHECK(p.trainable_last == 4);
    const auto args = sweep.trainer_args(p);
    const auto at = std::find(args.begin(), args.end(), "--init-from");
    REQUIRE(at != args.end());
    CHECK(*(at + 1) == checkpoint.string());
  }
  CHECK(schedules == std::set<std::string>{"separate", "interleaved"});
  CHECK(sweep.points[12].grad_filter == 2);
  CHECK(sweep.points[14].grad_filter == 4);
  // 5 epochs of 30000 images in mini-batches of 64: the trace is the last mini-batch.
  CHECK(sweep.training["trace_iteration"] == 5 * (30000 / 64));
}

TEST_CASE("a checkpoint's hash is the stable hash of its bytes, however large") {
  eg::testing::TempDir dir("sweep-axes-hash");
  // More than one 64 KiB read, ending mid-chunk.
  std::string bytes;
  for (int i = 0; i < 200000; ++i) bytes += static_cast<char>(i * 7 % 251);
  const fs::path file = write_checkpoint(dir.path(), bytes);
  CHECK(eg::sweep::stable_file_hash(file) == eg::sweep::stable_hash(bytes));
  CHECK(eg::sweep::stable_file_hash(write_checkpoint(dir.path(), "")) ==
        eg::sweep::stable_hash(std::string()));
  CHECK_THROWS_WITH(eg::sweep::stable_file_hash(dir / "absent.bin"),
                    Catch::StartsWith((dir / "absent.bin").string() + ": cannot open: "));
}
