#pragma once
// SVG charts as plain strings: stacked (and grouped) bars, and lines with markers. Standalone SVG
// documents (with the xmlns), so the same text is a .svg file and an inline figure in HTML.
#include <string>
#include <vector>

namespace eg::render {

struct StackedBarChart {
  std::string title, y_label;
  std::vector<std::string> series;  // stack segments, bottom first; one legend entry each
  struct Bar {
    std::string label;           // under the bar; may be empty when a group has one bar
    std::vector<double> values;  // one per series; non-finite values count as 0
  };
  struct Group {
    std::string label;
    std::vector<Bar> bars;
  };
  std::vector<Group> groups;
};

struct LineChart {
  std::string title, x_label, y_label;
  struct Series {
    std::string name;
    std::vector<std::pair<double, double>> points;  // (x, y), drawn in x order
  };
  std::vector<Series> series;
};

std::string stacked_bar_svg(const StackedBarChart& chart);
std::string line_chart_svg(const LineChart& chart);

}  // namespace eg::render
