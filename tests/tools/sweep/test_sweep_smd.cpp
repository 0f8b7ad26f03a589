// The sweep's mini-batch dropping axis (grids' "smd_drop_probs") and its whole-run figures:
// expansion, point identity (unchanged for points that drop nothing), trainer flags, validation,
// and the summary's executed iterations and whole-run energy, end to end with the fake tools.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "sweep_test_support.hpp"
#include "tools/sweep/json_file.hpp"
#include "tools/sweep/point_figures.hpp"
#include "tools/sweep/stable_hash.hpp"
#include "tools/sweep/summary.hpp"
#include "tools/sweep/sweep_config.hpp"

using eg::sweep::parse_sweep;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = fs::path(EGSIM_SOURCE_DIR) / "tests/tools/sweep/virtual.json";

using eg::testing::rejection;

// The tiny sweep's EfficientGrad grid at P = 0 and 0.9, each without and with dropping half the
// mini-batches, and its reference point.
json smd_sweep_json() {
  json c = eg::testing::tiny_sweep_json();
  c["grids"][0]["pruning_rates"] = json::array({0.0, 0.9});
  c["grids"][0]["smd_drop_probs"] = json::array({0.0, 0.5});
  return c;
}

}  // namespace

TEST_CASE("the drop probability axis expands between pruning rates and hardware configs") {
  const auto sweep = parse_sweep(smd_sweep_json(), kSource);
  REQUIRE(sweep.points.size() == 5);
  const double want[][2] = {{0.0, 0.0}, {0.0, 0.5}, {0.9, 0.0}, {0.9, 0.5}};
  for (int i = 0; i < 4; ++i) {
    INFO(i);
    CHECK(sweep.points[i].pruning_rate == want[i][0]);
    CHECK(sweep.points[i].smd_drop_prob == want[i][1]);
  }
  CHECK(sweep.points[4].smd_drop_prob == 0.0);  // a grid without the axis drops nothing
  // Dropping is another training run: another trace and another point.
  CHECK(sweep.points[0].trace_key != sweep.points[1].trace_key);
  CHECK(sweep.points[1].id.rfind("efficientgrad-p0-d0.5-resnet20-synthetic-s1-", 0) == 0);
  CHECK(sweep.points[0].id.rfind("efficientgrad-p0-resnet20-synthetic-s1-", 0) == 0);
  CHECK(sweep.points[1].params()["smd_drop_prob"] == 0.5);
  CHECK(sweep.points[0].params()["smd_drop_prob"] == 0.0);
}

TEST_CASE("points that drop nothing keep the identity they had before the axis existed") {
  const json plain = eg::testing::tiny_sweep_json();
  json zero = plain;
  zero["grids"][0]["smd_drop_probs"] = json::array({0});
  const auto a = parse_sweep(plain, kSource), b = parse_sweep(zero, kSource);
  REQUIRE(a.points.size() == b.points.size());
  for (size_t i = 0; i < a.points.size(); ++i) {
    CHECK(a.points[i].id == b.points[i].id);
    CHECK(a.points[i].trace_key == b.points[i].trace_key);
  }
  // The trace key is the hash of exactly the fields it had before: earlier sweep folders and
  // trace caches are found again.
  const json before{{"trace_format", 1},
                    {"network", "resnet20"},
                    {"dataset", "synthetic"},
                    {"mode", "efficientgrad"},
                    {"pruning_rate", 0.5},
                    {"seed", 1},
                    {"training", plain["training"]}};
  CHECK(a.points[1].trace_key == eg::sweep::stable_hash(before));
}

TEST_CASE("trainer arguments carry the drop probability only when it is not zero") {
  const auto sweep = parse_sweep(smd_sweep_json(), kSource);
  const auto without = sweep.trainer_args(sweep.points[0]);
  CHECK(std::find(without.begin(), without.end(), "--smd-drop-prob") == without.end());
  const auto with = sweep.trainer_args(sweep.points[1]);
  const auto at = std::find(with.begin(), with.end(), "--smd-drop-prob");
  REQUIRE(at != with.end());
  REQUIRE(at + 1 != with.end());
  CHECK(*(at + 1) == "0.5");
}

TEST_CASE("bad drop probabilities in a sweep config are rejected naming the field") {
  const json c = smd_sweep_json();
  auto with = [&](const json& value) {
    json bad = c;
    bad["grids"][0]["smd_drop_probs"] = value;
    return rejection(bad);
  };
  CHECK(with(json::array({0.0, 1.0})) ==
        kSource.string() +
            ": /grids/0/smd_drop_probs/1: mini-batch drop probability 1 outside [0, 1)");
  CHECK_THAT(with(json::array({-0.25})),
             Catch::EndsWith("/grids/0/smd_drop_probs/0: mini-batch drop probability -0.25 "
                             "outside [0, 1)"));
  CHECK_THAT(with(json::array({"0.5"})),
             Catch::EndsWith("/grids/0/smd_drop_probs/0: must be a number"));
  CHECK_THAT(with(json::array()), Catch::EndsWith("/grids/0/smd_drop_probs: empty grid: list at "
                                                  "least one value"));
  CHECK_THAT(with(0.5), Catch::EndsWith("/grids/0/smd_drop_probs: must be an array"));
  CHECK_THAT(with(json::array({0.5, 0.5})), Catch::Contains("/grids/0: duplicate point"));
  // The axis is the only way to set it: a trainer flag would train one thing under another name.
  json extra = c;
  extra["training"]["extra_args"] = json::array({"--smd-drop-prob", "0.5"});
  CHECK(rejection(extra) ==
        kSource.string() +
            ": /training/extra_args/0: --smd-drop-prob is set per point by the grids' "
            "smd_drop_probs");
}

TEST_CASE("executed iterations come from the trainer's metrics, all of them for older ones") {
  eg::testing::TempDir dir("sweep-iterations");
  auto metrics = [&](const json& last_row) {
    fs::create_directories(dir / "train");
    std::ofstream(dir / "train" / "metrics.json")
        << json{{"epochs", json::array({{{"iterations", 1}}, last_row})}}.dump();
    return eg::sweep::read_run_iterations(dir / "train");
  };
  CHECK_FALSE(eg::sweep::read_run_iterations(dir / "train"));  // no metrics at all
  auto it = metrics({{"iterations", 250}, {"executed_iterations", 131}});
  REQUIRE(it);
  CHECK(it->nominal == 250);
  CHECK(it->executed == 131);
  it = metrics({{"iterations", 250}});  // a trainer without mini-batch dropping
  REQUIRE(it);
  CHECK(it->executed == 250);
  CHECK_FALSE(metrics({{"iterations", 250}, {"executed_iterations", 251}}));
  CHECK_FALSE(metrics({{"iterations", "250"}}));
  CHECK_FALSE(metrics({{"test_acc", 0.5}}));

  json figures{{"energy_pj_total", 1000.0}, {"missing", json::array()}};
  eg::sweep::add_run_figures(figures, eg::sweep::RunIterations{250, 131});
  CHECK(figures["energy_pj_run_total"] == 131000.0);
  CHECK(figures["iterations_executed"] == 131);
  CHECK(figures["missing"].empty());
  json no_energy{{"energy_pj_total", nullptr}, {"missing", json::array({"energy_pj_total"})}};
  eg::sweep::add_run_figures(no_energy, std::nullopt);
  CHECK(no_energy["energy_pj_run_total"].is_null());
  CHECK(no_energy["missing"] == json::array({"energy_pj_total", "iterations_nominal",
                                             "iterations_executed", "energy_pj_run_total"}));
}

TEST_CASE("a sweep over drop probabilities reports whole-run energy beside per-iteration energy") {
  eg::testing::TempDir dir("sweep-smd");
  json c = smd_sweep_json();
  c["training"]["iterations"] = 40;
  const fs::path config = eg::testing::write_config(dir.path(), c);
  const auto run = eg::testing::run_sweep_cli(
      {"--config", config.string(), "--out", (dir / "out").string(), "--jobs", "2"},
      dir / "log.txt");
  INFO(run.output);
  REQUIRE(run.code == 0);
  const json summary = eg::sweep::read_json_file(dir / "out" / "summary.json");
  REQUIRE(summary["rows"].size() == 5);
  // The fake trainer executes round(40 x (1 - p)) of its 40 nominal iterations.
  const int executed[] = {40, 20, 40, 20, 40};
  for (int i = 0; i < 5; ++i) {
    const json& row = summary["rows"][i];
    INFO(i);
    CHECK(row["iterations_nominal"] == 40);
    CHECK(row["iterations_executed"] == executed[i]);
    REQUIRE(row["energy_pj_total"].is_number());
    CHECK(row["energy_pj_run_total"].get<double>() ==
          row["energy_pj_total"].get<double>() * executed[i]);
  }
  CHECK(summary["rows"][1]["smd_drop_prob"] == 0.5);
  CHECK(summary["rows"][4]["smd_drop_prob"] == 0.0);
  CHECK(summary["missing_figures"].empty());
  // The CSV: the drop probability beside the pruning rate, the run's energy beside the iteration's.
  const std::string csv = eg::testing::slurp(dir / "out" / "summary.csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  CHECK_THAT(header, Catch::Contains(",pruning_rate,smd_drop_prob,"));
  CHECK_THAT(header, Catch::Contains(",energy_pj_total,energy_pj_run_total,"));
  CHECK_THAT(header, Catch::Contains(",test_accuracy,iterations_nominal,iterations_executed,"));
  CHECK(fs::exists(dir / "out" / "plots" / "run_energy_vs_pruning.svg"));
  const std::string html = eg::testing::slurp(dir / "out" / "report.html");
  CHECK_THAT(html, Catch::Contains("SMD 0.5"));
}

TEST_CASE("a summary row written before the axis existed reads as dropping nothing") {
  eg::testing::TempDir dir("sweep-smd-old");
  const json c = eg::testing::tiny_sweep_json();
  const fs::path config = eg::testing::write_config(dir.path(), c);
  REQUIRE(eg::testing::run_sweep_cli({"--config", config.string(), "--out", (dir / "out").string()},
                                     dir / "log.txt")
              .code == 0);
  // Strip the new fields from one result, as an earlier sweep wrote it.
  const json sweep = eg::sweep::read_json_file(dir / "out" / "sweep.json");
  const fs::path result =
      dir / "out" / "points" / sweep["points"][0]["id"].get<std::string>() / "result.json";
  json doc = eg::sweep::read_json_file(result);
  for (const char* key :
       {"smd_drop_prob", "iterations_nominal", "iterations_executed", "energy_pj_run_total"})
    doc["row"].erase(key);
  std::ofstream(result, std::ios::trunc) << doc.dump();
  const json summary = eg::sweep::build_summary(dir / "out");
  REQUIRE(summary["points_done"] == 4);
  CHECK(summary["rows"][0]["smd_drop_prob"] == 0.0);
  CHECK(summary["rows"][0]["energy_pj_run_total"].is_null());
}
