// SVG charts and the single-run HTML report.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "markup_check.hpp"
#include "support/temp_dir.hpp"
#include "tools/render/charts.hpp"
#include "tools/render/run_report.hpp"
#include "tools/render/svg_text.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

json figures(double cycles, bool with_energy) {
  json f{{"cycles", cycles},           {"seconds", cycles / 5e8},
         {"macs_issued", cycles * 10}, {"macs_skipped", 0},
         {"utilization", 0.4},         {"gops", 2.0},
         {"power_mw", 100.0},          {"stalls", {{"input", 1}, {"output", 2}, {"idle", 3}}}};
  if (with_energy) {
    f["chip_power_mw"] = 75.0;
    f["dram_power_mw"] = 25.0;
    f["energy_pj"] = {{"total", 65 * cycles}, {"mac", 10 * cycles},   {"spad", 10 * cycles},
                      {"noc", 10 * cycles},   {"glb", 10 * cycles},   {"dram", 15 * cycles},
                      {"ppu", 5 * cycles},    {"leakage", 5 * cycles}};
    f["dram"] = {{"read_bytes", 3 * cycles}, {"write_bytes", cycles}};
  }
  return f;
}

json report(bool with_energy, double scale = 1.0) {
  json r{{"schema", "egsim-report"},
         {"version", 1},
         {"clock_mhz", 500},
         {"config", {{"name", "test <config>"}}},
         {"trace", {{"network", "resnet20"}, {"mode", "efficientgrad"}, {"pruning_rate", 0.9}}},
         {"totals", figures(3000 * scale, with_energy)},
         {"phases",
          {{"forward", figures(1000 * scale, with_energy)},
           {"backward", figures(1200 * scale, with_energy)},
           {"weight_gradient", figures(800 * scale, with_energy)}}}};
  r["layers"] = json::array();
  for (const char* name : {"conv1", "layer1.0.conv1", "fc"})
    r["layers"].push_back({{"name", name},
                           {"type", std::string(name) == "fc" ? "fc" : "conv"},
                           {"phases",
                            {{"forward", figures(300 * scale, with_energy)},
                             {"backward", figures(400 * scale, with_energy)},
                             {"weight_gradient", figures(200 * scale, with_energy)}}}});
  r["layers"].push_back(
      {{"name", "relu1"}, {"type", "relu"}, {"phases", {{"forward", figures(10, with_energy)}}}});
  return r;
}

}  // namespace

TEST_CASE("axis ticks are round numbers covering the range") {
  const auto ticks = eg::render::nice_ticks(0, 1234, 5);
  REQUIRE(ticks.size() >= 3);
  CHECK(ticks.front() <= 0);
  CHECK(ticks.back() >= 1234);
  const double step = ticks[1] - ticks[0];
  CHECK((step == 200 || step == 250 || step == 500));
  CHECK(eg::render::short_number(2500000) == "2.5M");
  CHECK(eg::render::table_number(1234567) == "1,234,567");
  CHECK(eg::render::xml_escape("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;");
}

TEST_CASE("stacked bars: one rectangle per non-zero segment, valid SVG, escaped labels") {
  eg::render::StackedBarChart chart;
  chart.title = "energy <per phase>";
  chart.y_label = "pJ";
  chart.series = {"mac", "dram"};
  chart.groups = {{"forward", {{"baseline", {1, 2}}, {"egrad", {1, 0}}}},
                  {"backward", {{"baseline", {3, 4}}, {"egrad", {0.5, 0.5}}}}};
  const std::string svg = eg::render::stacked_bar_svg(chart);
  CHECK(eg::testing::svg_problem(svg).empty());
  CHECK(count(svg, "<rect x=") == 7 + 2);  // 7 segments + 2 legend swatches
  CHECK(svg.find("energy &lt;per phase&gt;") != std::string::npos);
  CHECK(svg.find("<per phase>") == std::string::npos);
}

TEST_CASE("line chart: a marker per point, a line per multi-point series") {
  eg::render::LineChart chart{"cycles vs P", "P", "cycles", {}};
  chart.series = {{"efficientgrad", {{0.9, 100}, {0.0, 400}, {0.5, 250}}}, {"bp", {{0.0, 600}}}};
  const std::string svg = eg::render::line_chart_svg(chart);
  CHECK(eg::testing::svg_problem(svg).empty());
  CHECK(count(svg, "<circle") == 4);
  CHECK(count(svg, "<polyline") == 1);
  CHECK(eg::testing::svg_problem(eg::render::line_chart_svg({"empty", "x", "y", {}})).empty());
}

TEST_CASE("run report: charts, tables, config, and links only to files that exist") {
  eg::testing::TempDir dir("render-run");
  std::ofstream(dir / "report.json") << report(true).dump();
  const json baseline = report(true, 2.0);
  eg::render::write_run_html(report(true), dir / "report.html", &baseline);
  const std::string html = slurp(dir / "report.html");
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(count(html, "<svg xmlns") == 3);  // energy, utilisation, DRAM per layer
  CHECK(html.find("test &lt;config&gt;") != std::string::npos);
  CHECK(html.find("baseline / this") != std::string::npos);
  CHECK(html.find("<td>2</td>") != std::string::npos);  // baseline/this ratio of totals
  CHECK(html.find("relu1</td>") != std::string::npos);  // every layer is tabulated
  // The energy chart stacks the leakage component; the table gives chip and DRAM power apart.
  CHECK(html.find(">leakage<") != std::string::npos);
  CHECK(html.find("chip power (mW)") != std::string::npos);
  CHECK(html.find("DRAM power (mW)") != std::string::npos);
  const auto links = eg::testing::html_links(html);
  REQUIRE(links.size() == 1);  // report.json exists; report.csv does not, so it is not linked
  CHECK(links[0] == "report.json");
  CHECK(html.find("class=\"note\"") == std::string::npos);
}

TEST_CASE("run report without energy says so instead of drawing zeros") {
  eg::testing::TempDir dir("render-missing");
  eg::render::write_run_html(report(false), dir / "report.html");
  const std::string html = slurp(dir / "report.html");
  CHECK(html.find("This report has no energy") != std::string::npos);
  CHECK(html.find("No per-phase energy in this report") != std::string::npos);
  CHECK(html.find("No per-layer DRAM traffic") != std::string::npos);
  CHECK(count(html, "<svg xmlns") == 1);  // utilisation only
  CHECK(html.find("<i>missing</i>") != std::string::npos);
  CHECK(eg::testing::html_links(html).empty());
}
