// egsim compare: ratios of two small hand-written reports, schema checks, the CLI entry point.
#include <catch2/catch.hpp>

#include <fstream>

#include "hw/compare/report_compare.hpp"
#include "hw/compare/run_compare.hpp"
#include "support/temp_dir.hpp"
#include "base/error.hpp"

using nlohmann::json;

namespace {

json figures(double cycles, double gops, double power, double energy, double dram_read,
             double dram_write) {
  return {{"cycles", cycles},
          {"seconds", cycles / 500e6},
          {"gops", gops},
          {"power_mw", power},
          {"stalls", {{"input", 10}, {"output", 0}, {"idle", 5}}},
          {"energy_pj", {{"total", energy}, {"mac", energy / 4}, {"dram", energy / 2}}},
          {"dram",
           {{"read_bytes", dram_read},
            {"write_bytes", dram_write},
            {"by_class", {{"weights", {{"read_bytes", dram_read / 2}, {"write_bytes", 0}}}}}}}};
}

json report(double scale, bool with_update) {
  json r = {{"schema", "egsim-report"},
            {"version", 1},
            {"clock_mhz", 500},
            {"trace", {{"network", "tiny"}, {"mode", "bp"}}}};
  r["totals"] = figures(1000 * scale, 10 / scale, 200, 4000, 800, 200);
  r["phases"]["forward"] = figures(400 * scale, 12, 100, 1000, 300, 100);
  if (with_update) r["phases"]["weight_update"] = figures(50, 1, 50, 400, 100, 100);
  return r;
}

}  // namespace

TEST_CASE("compare puts totals and phases side by side with plainly named ratios") {
  const json a = report(2.0, true);   // baseline: twice the cycles
  const json b = report(1.0, false);  // no weight-update phase
  const json c = eg::compare::compare_reports(a, "a.json", b, "b.json");
  CHECK(c["schema"] == "egsim-compare");
  CHECK(c["headline"]["throughput_gops"]["b_over_a"].get<double>() == Approx(2.0));
  CHECK(c["headline"]["throughput_gops"]["a_over_b"].get<double>() == Approx(0.5));
  CHECK(c["headline"]["cycles"]["b_over_a"].get<double>() == Approx(0.5));
  CHECK(c["headline"]["power_mw"]["b_over_a"].get<double>() == Approx(1.0));
  CHECK(c["headline"]["dram_traffic_bytes"]["a"].get<double>() == 1000);
  CHECK(c["totals"]["energy_pj.dram"]["a"].get<double>() == 2000);
  CHECK(c["totals"]["dram.by_class.weights.read_bytes"]["b"].get<double>() == 400);
  CHECK(c["totals"]["stalls.input"]["b_over_a"].get<double>() == 1.0);
  CHECK(c["totals"]["dram.by_class.weights.write_bytes"]["b_over_a"].is_null());  // 0 / 0
  CHECK(c["phases"]["forward"]["cycles"]["a_over_b"].get<double>() == Approx(2.0));
  // A phase only one report has is compared against nothing, not against zero.
  CHECK(c["phases"]["weight_update"]["cycles"]["b"].is_null());
  CHECK(c["phases"]["weight_update"]["cycles"]["b_over_a"].is_null());
  CHECK_FALSE(c["phases"].contains("backward"));
  const std::string table = eg::compare::format_comparison(c);
  CHECK(table.find("throughput_gops") != std::string::npos);
  CHECK(table.find("phase forward") != std::string::npos);
}

TEST_CASE("compare rejects a wrong schema or version naming the file") {
  json bad = report(1, false);
  bad["version"] = 2;
  CHECK_THROWS_WITH(eg::compare::compare_reports(report(1, false), "a.json", bad, "b.json"),
                    "b.json: /version: expected 1 (got 2)");
  bad = report(1, false);
  bad["schema"] = "something-else";
  CHECK_THROWS_WITH(eg::compare::compare_reports(bad, "a.json", report(1, false), "b.json"),
                    Catch::Matchers::StartsWith("a.json: /schema: expected \"egsim-report\""));
}

TEST_CASE("run_compare writes the comparison JSON and fails cleanly on a bad report") {
  eg::testing::TempDir dir("egcompare");
  const std::string a = (dir / "a.json").string(), b = (dir / "b.json").string(),
                    out = (dir / "cmp.json").string();
  std::ofstream(a) << report(2.0, true).dump();
  std::ofstream(b) << report(1.0, true).dump();
  std::string args[] = {"compare", a, b, "--out", out};
  char* argv[] = {args[0].data(), args[1].data(), args[2].data(), args[3].data(), args[4].data()};
  REQUIRE(eg::compare::run_compare(5, argv) == 0);
  json written = json::parse(std::ifstream(out));
  CHECK(written["headline"]["throughput_gops"]["b_over_a"].get<double>() == Approx(2.0));

  std::ofstream(b) << R"({"schema":"egsim-report","version":7,"totals":{}})";
  std::filesystem::remove(out);
  CHECK(eg::compare::run_compare(5, argv) == 1);
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK(eg::compare::run_compare(2, argv) == 2);
}
