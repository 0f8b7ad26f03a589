// The labelled scatter chart of the sweep report (accuracy against energy): well-formed SVG, one
// marker per finite point, labels that move off each other when points coincide, and labels on
// the side of the marker that has room.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <regex>
#include <set>
#include <string>

#include "markup_check.hpp"
#include "tools/render/scatter_chart.hpp"

using eg::render::ScatterChart;

namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the scatter chart draws one labelled marker per finite point") {
  ScatterChart chart{"Accuracy vs energy", "energy (pJ)", "test accuracy", {"BP", "EG"}, {}};
  chart.points = {{100, 0.9, "bp <separate>", 0},
                  {50, 0.85, "efficientgrad & co", 1},
                  {std::nan(""), 0.5, "no energy", 1},
                  {60, std::numeric_limits<double>::infinity(), "bad accuracy", 1}};
  const std::string svg = eg::render::scatter_chart_svg(chart);
  CHECK(eg::testing::svg_problem(svg).empty());
  CHECK(count_of(svg, "<circle") == 2 + 2);  // two points, two legend entries
  CHECK(svg.find("bp &lt;separate&gt;") != std::string::npos);
  CHECK(svg.find("efficientgrad &amp; co") != std::string::npos);
  CHECK(svg.find("no energy") == std::string::npos);
  CHECK(svg.find("bad accuracy") == std::string::npos);
  // The marker at the largest energy sits in the right half: its label reads leftwards.
  CHECK(svg.find("text-anchor=\"end\">bp &lt;separate&gt;") != std::string::npos);
  CHECK(svg.find("text-anchor=\"end\">efficientgrad") == std::string::npos);
}

TEST_CASE("labels of coinciding points are put on different lines") {
  ScatterChart chart{"t", "x", "y", {"g"}, {}};
  for (int i = 0; i < 4; ++i) chart.points.push_back({10, 0.5, "point " + std::to_string(i), 0});
  const std::string svg = eg::render::scatter_chart_svg(chart);
  const std::regex label(R"re(<text x="[0-9.]+" y="([0-9.]+)" font-size="9")re");
  std::set<std::string> ys;
  for (std::sregex_iterator it(svg.begin(), svg.end(), label), end; it != end; ++it)
    ys.insert((*it)[1]);
  CHECK(ys.size() == 4);
}

TEST_CASE("a chart without finite points is still a valid empty chart") {
  ScatterChart chart{"t", "x", "y", {}, {{std::nan(""), 1, "a", 0}}};
  const std::string svg = eg::render::scatter_chart_svg(chart);
  CHECK(eg::testing::svg_problem(svg).empty());
  CHECK(count_of(svg, "<circle") == 0);
}
