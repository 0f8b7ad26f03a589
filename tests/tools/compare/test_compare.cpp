// egsim compare: ratios of two small hand-written reports, schema checks, the CLI entry point.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "base/error.hpp"
#include "base/owned_dir.hpp"
#include "support/temp_dir.hpp"
#include "tools/compare/report_compare.hpp"
#include "tools/compare/run_compare.hpp"

using nlohmann::json;

namespace {

namespace fs = std::filesystem;

// Runs run_compare with `args` (after the subcommand name); returns its exit code and stderr.
std::pair<int, std::string> compare_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "compare");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::ostringstream err, out;
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  const int code = eg::compare::run_compare(static_cast<int>(argv.size()), argv.data());
  std::cerr.rdbuf(old_err);
  std::cout.rdbuf(old_out);
  return {code, err.str()};
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

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
            {"trace", {{"network", "tiny"}, {"mode", "bp"}}},
            {"layers", json::array()}};
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

TEST_CASE("compare headlines chip power and total power as separate ratios") {
  json a = report(1.0, false), b = report(1.0, false);
  // A: 200 mW of which the chip 120 and the DRAM 80; B: the same DRAM, a chip at half the power.
  a["totals"]["chip_power_mw"] = 120.0;
  a["totals"]["dram_power_mw"] = 80.0;
  b["totals"]["power_mw"] = 140.0;
  b["totals"]["chip_power_mw"] = 60.0;
  b["totals"]["dram_power_mw"] = 80.0;
  const json c = eg::compare::compare_reports(a, "a.json", b, "b.json");
  CHECK(c["headline"]["chip_power_mw"]["b_over_a"].get<double>() == Approx(0.5));
  CHECK(c["headline"]["power_mw"]["b_over_a"].get<double>() == Approx(0.7));
  CHECK(c["headline"]["dram_power_mw"]["b_over_a"].get<double>() == Approx(1.0));
  const std::string table = eg::compare::format_comparison(c);
  const size_t headline = table.find("headline");
  const size_t totals = table.find("\ntotals");
  REQUIRE(headline != std::string::npos);
  const size_t chip = table.find("chip_power_mw", headline);
  CHECK(chip < totals);  // in the headline section, not only among the totals
  CHECK(table.find("0.5000", chip) < table.find("\n", chip));
  CHECK(table.find("dram_power_mw", headline) < totals);
  // A report written before the split has no chip power: its ratio is null, not a wrong number.
  const json old = eg::compare::compare_reports(report(1.0, false), "a.json", b, "b.json");
  CHECK(old["headline"]["chip_power_mw"]["a"].is_null());
  CHECK(old["headline"]["chip_power_mw"]["b_over_a"].is_null());
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

TEST_CASE("compare names the file when a report is nested too deeply and writes nothing") {
  eg::testing::TempDir dir("egcompare");
  const std::string a = (dir / "a.json").string(), deep = (dir / "deep.json").string();
  std::ofstream(a) << report(1.0, false).dump();
  // A report whose totals hide 100000 nested arrays: parsing it must neither recurse nor crash.
  std::ofstream(deep) << R"({"schema":"egsim-report","version":1,"totals":{"x":)"
                      << std::string(100000, '[') << std::string(100000, ']') << "}}";
  const auto [code, err] = compare_cli({a, deep, "--out", (dir / "cmp.json").string()});
  CHECK(code == 1);
  CHECK(err == "egsim compare: " + deep + ": JSON nested deeper than 64 levels\n");
  CHECK(names_in(dir.path()) == std::set<std::string>{"a.json", "deep.json"});
}

TEST_CASE("compare --out never overwrites a file it did not write and leaves nothing on failure") {
  eg::testing::TempDir dir("egcompare");
  const std::string a = (dir / "a.json").string(), b = (dir / "b.json").string();
  std::ofstream(a) << report(2.0, true).dump();
  std::ofstream(b) << report(1.0, true).dump();

  SECTION("a user's file of that name is refused before any work and kept") {
    std::ofstream(dir / "notes.json") << "mine";
    const auto [code, err] = compare_cli({a, b, "--out", (dir / "notes.json").string()});
    CHECK(code == 1);
    CHECK_THAT(err, Catch::Contains("notes.json: exists and was not written by egsim compare"));
    CHECK(names_in(dir.path()) == std::set<std::string>{"a.json", "b.json", "notes.json"});
    std::ifstream in(dir / "notes.json");
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "mine");
  }
  SECTION("an input report is never the output") {
    const auto [code, err] = compare_cli({a, b, "--out", a});
    CHECK(code == 1);
    CHECK(json::parse(std::ifstream(a))["schema"] == "egsim-report");
  }
  SECTION("a folder that does not exist is an error, not created") {
    const std::string out = (dir / "missing" / "cmp.json").string();
    const auto [code, err] = compare_cli({a, b, "--out", out});
    CHECK(code == 1);
    CHECK_THAT(err, Catch::Contains("cmp.json: --out: folder"));
    CHECK_FALSE(fs::exists(dir / "missing"));
  }
  SECTION("a bad report leaves neither the output nor a temporary file") {
    std::ofstream(b, std::ios::trunc) << "{\"schema\": ";
    const auto [code, err] = compare_cli({a, b, "--out", (dir / "cmp.json").string()});
    CHECK(code == 1);
    CHECK_THAT(err, Catch::StartsWith("egsim compare: " + b + ": not valid JSON"));
    CHECK(names_in(dir.path()) == std::set<std::string>{"a.json", "b.json"});
  }
  SECTION("its own earlier output is replaced") {
    const std::string out = (dir / "cmp.json").string();
    REQUIRE(compare_cli({a, b, "--out", out}).first == 0);
    REQUIRE(compare_cli({b, a, "--out", out}).first == 0);
    CHECK(json::parse(std::ifstream(out))["a"]["file"] == b);
    // Only the output and the ownership marker were added.
    CHECK(names_in(dir.path()) ==
          std::set<std::string>{"a.json", "b.json", "cmp.json", eg::kOwnerMarker});
  }
}
