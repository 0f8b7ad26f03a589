#pragma once
// A scatter chart with a text label beside every point (one point per sweep point), coloured by
// group with a legend: accuracy against energy, where each point is its own configuration and no
// line joins them.
#include <string>
#include <vector>

namespace eg::render {

struct ScatterChart {
  std::string title, x_label, y_label;
  struct Point {
    double x = 0, y = 0;
    std::string label;  // written beside the marker and in its tooltip
    size_t group = 0;   // index into groups (colour and legend entry)
  };
  std::vector<std::string> groups;
  std::vector<Point> points;  // non-finite coordinates are left out
};

std::string scatter_chart_svg(const ScatterChart& chart);

}  // namespace eg::render
