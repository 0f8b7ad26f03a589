#include "tools/render/scatter_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "tools/render/svg_text.hpp"

namespace eg::render {

namespace {

// Layout (pixels): the plot, room on the right for the points' labels and the legend.
constexpr double kPlotLeft = 78, kPlotRight = 640, kPlotTop = 40, kHeight = 420, kBottomMargin = 60,
                 kLegendWidth = 200, kLegendRowHeight = 18;
// Point labels at font size 9: an average glyph is about 5 px wide; a line is 11 px; a label tries
// its own line and then up to 4 lines above and 4 below before it accepts an overlap.
constexpr double kLabelCharWidth = 5, kLabelLineHeight = 11;
constexpr int kLabelPlacementTries = 9;

std::string fmt(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

}  // namespace

std::string scatter_chart_svg(const ScatterChart& chart) {
  std::vector<ScatterChart::Point> points;
  for (const auto& p : chart.points)
    if (std::isfinite(p.x) && std::isfinite(p.y)) points.push_back(p);
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& p : points) {
    xmin = std::min(xmin, p.x);
    xmax = std::max(xmax, p.x);
    ymin = std::min(ymin, p.y);
    ymax = std::max(ymax, p.y);
  }
  if (points.empty()) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  // Energy axes start at zero, so ratios between points read off the chart.
  xmin = std::min(xmin, 0.0);
  if (xmax <= xmin) xmax = xmin + 1;
  if (ymax <= ymin) ymin -= 0.05, ymax += 0.05;
  const std::vector<double> xt = nice_ticks(xmin, xmax, 6);
  const std::vector<double> yt = nice_ticks(ymin, ymax, 5);
  const double x0 = xt.front(), x1 = xt.back(), y0 = yt.front(), y1 = yt.back();
  const double plot_bottom = kHeight - kBottomMargin;
  const double legend_rows = static_cast<double>(chart.groups.size());
  const double height = std::max(kHeight, kPlotTop + legend_rows * kLegendRowHeight + 20);
  const double width = kPlotRight + 20 + kLegendWidth;
  const auto px = [&](double x) {
    return kPlotLeft + (x - x0) / (x1 - x0) * (kPlotRight - kPlotLeft);
  };
  const auto py = [&](double y) {
    return plot_bottom - (y - y0) / (y1 - y0) * (plot_bottom - kPlotTop);
  };

  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(width) + "\" height=\"" +
      fmt(height) + "\" viewBox=\"0 0 " + fmt(width) + " " + fmt(height) +
      "\" font-family=\"sans-serif\" font-size=\"11\">\n<title>" + xml_escape(chart.title) +
      "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"" +
      fmt(width / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">" +
      xml_escape(chart.title) + "</text>\n";
  for (double t : yt) {
    s += "<line x1=\"" + fmt(kPlotLeft) + "\" x2=\"" + fmt(kPlotRight) + "\" y1=\"" + fmt(py(t)) +
         "\" y2=\"" + fmt(py(t)) + "\" stroke=\"#ddd\"/>\n<text x=\"" + fmt(kPlotLeft - 6) +
         "\" y=\"" + fmt(py(t) + 4) + "\" text-anchor=\"end\">" + xml_escape(short_number(t)) +
         "</text>\n";
  }
  for (double t : xt)
    s += "<text x=\"" + fmt(px(t)) + "\" y=\"" + fmt(plot_bottom + 16) +
         "\" text-anchor=\"middle\">" + xml_escape(short_number(t)) + "</text>\n";
  s += "<line x1=\"" + fmt(kPlotLeft) + "\" x2=\"" + fmt(kPlotLeft) + "\" y1=\"" + fmt(kPlotTop) +
       "\" y2=\"" + fmt(plot_bottom) + "\" stroke=\"#333\"/>\n<line x1=\"" + fmt(kPlotLeft) +
       "\" x2=\"" + fmt(kPlotRight) + "\" y1=\"" + fmt(plot_bottom) + "\" y2=\"" +
       fmt(plot_bottom) + "\" stroke=\"#333\"/>\n";
  s += "<text x=\"" + fmt((kPlotLeft + kPlotRight) / 2) + "\" y=\"" + fmt(plot_bottom + 38) +
       "\" text-anchor=\"middle\">" + xml_escape(chart.x_label) + "</text>\n";
  s += "<text transform=\"translate(16," + fmt((kPlotTop + plot_bottom) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + xml_escape(chart.y_label) + "</text>\n";
  // Labels: beside their marker, on the side with room (left of markers in the right half of
  // the plot), moved up or down a line when they would cover a label already placed. Widths are
  // estimated (kLabelCharWidth per character); the tooltip carries the full text either way.
  struct Box {
    double x0, x1, y0, y1;
  };
  std::vector<Box> placed;
  const auto overlaps = [&](const Box& b) {
    for (const auto& o : placed)
      if (b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1) return true;
    return false;
  };
  for (const auto& p : points) {
    const std::string colour = palette(p.group);
    const double cx = px(p.x), cy = py(p.y);
    s += "<circle cx=\"" + fmt(cx) + "\" cy=\"" + fmt(cy) + "\" r=\"4\" fill=\"" + colour +
         "\"><title>" + xml_escape(p.label + ": " + short_number(p.x) + ", " + short_number(p.y)) +
         "</title></circle>\n";
    const bool left = cx > (kPlotLeft + kPlotRight) / 2;
    const double text_width = kLabelCharWidth * static_cast<double>(p.label.size());
    const double x = left ? cx - 6 : cx + 6;
    double y = cy - 5;
    for (int attempt = 0; attempt < kLabelPlacementTries; ++attempt) {
      const double shift = kLabelLineHeight * ((attempt + 1) / 2) * (attempt % 2 ? 1 : -1);
      const Box box{left ? x - text_width : x, left ? x : x + text_width,
                    cy - 5 + shift - kLabelLineHeight + 2, cy - 5 + shift + 2};
      if (!overlaps(box)) {
        y = cy - 5 + shift;
        placed.push_back(box);
        break;
      }
    }
    s += "<text x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" font-size=\"9\" fill=\"" + colour + "\"" +
         (left ? " text-anchor=\"end\"" : "") + ">" + xml_escape(p.label) + "</text>\n";
  }
  for (size_t i = 0; i < chart.groups.size(); ++i) {
    const double y = kPlotTop + 8 + kLegendRowHeight * static_cast<double>(i);
    s += "<circle cx=\"" + fmt(kPlotRight + 26) + "\" cy=\"" + fmt(y) + "\" r=\"4\" fill=\"" +
         palette(i) + "\"/>\n<text x=\"" + fmt(kPlotRight + 36) + "\" y=\"" + fmt(y + 4) + "\">" +
         xml_escape(chart.groups[i]) + "</text>\n";
  }
  return s + "</svg>\n";
}

}  // namespace eg::render
