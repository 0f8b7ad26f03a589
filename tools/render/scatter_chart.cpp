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
  for (const auto& p : points) {
    const std::string colour = palette(p.group);
    s += "<circle cx=\"" + fmt(px(p.x)) + "\" cy=\"" + fmt(py(p.y)) + "\" r=\"4\" fill=\"" +
         colour + "\"><title>" +
         xml_escape(p.label + ": " + short_number(p.x) + ", " + short_number(p.y)) +
         "</title></circle>\n";
    // Labels sit to the right of their marker, small, so neighbours overlap as little as they
    // can; the tooltip carries the full text either way.
    s += "<text x=\"" + fmt(px(p.x) + 6) + "\" y=\"" + fmt(py(p.y) - 5) +
         "\" font-size=\"9\" fill=\"" + colour + "\">" + xml_escape(p.label) + "</text>\n";
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
