#include "tools/render/charts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "tools/render/svg_text.hpp"

namespace eg::render {

namespace {

constexpr double kHeight = 380, kTop = 40, kLeft = 78, kLegendWidth = 190;

std::string fmt(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

std::string svg_open(double width, double height, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(width) + "\" height=\"" +
         fmt(height) + "\" viewBox=\"0 0 " + fmt(width) + " " + fmt(height) +
         "\" font-family=\"sans-serif\" font-size=\"11\">\n<title>" + xml_escape(title) +
         "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"" +
         fmt(width / 2) +
         "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">" +
         xml_escape(title) + "</text>\n";
}

// Horizontal grid lines and y labels from `low` to `high`; returns the value -> y mapping extents.
std::string y_axis(const std::vector<double>& ticks, double plot_left, double plot_right,
                   double plot_top, double plot_bottom, const std::string& label) {
  const double low = ticks.front(), high = ticks.back();
  std::string s;
  for (double t : ticks) {
    const double y = plot_bottom - (t - low) / (high - low) * (plot_bottom - plot_top);
    s += "<line x1=\"" + fmt(plot_left) + "\" x2=\"" + fmt(plot_right) + "\" y1=\"" + fmt(y) +
         "\" y2=\"" + fmt(y) + "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + fmt(plot_left - 6) + "\" y=\"" + fmt(y + 4) + "\" text-anchor=\"end\">" +
         xml_escape(short_number(t)) + "</text>\n";
  }
  s += "<line x1=\"" + fmt(plot_left) + "\" x2=\"" + fmt(plot_left) + "\" y1=\"" + fmt(plot_top) +
       "\" y2=\"" + fmt(plot_bottom) + "\" stroke=\"#333\"/>\n";
  s += "<line x1=\"" + fmt(plot_left) + "\" x2=\"" + fmt(plot_right) + "\" y1=\"" +
       fmt(plot_bottom) + "\" y2=\"" + fmt(plot_bottom) + "\" stroke=\"#333\"/>\n";
  const double mid = (plot_top + plot_bottom) / 2;
  s += "<text transform=\"translate(16," + fmt(mid) + ") rotate(-90)\" text-anchor=\"middle\">" +
       xml_escape(label) + "</text>\n";
  return s;
}

std::string legend(const std::vector<std::string>& names, double x, bool lines) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    const double y = kTop + 8 + 18 * static_cast<double>(i);
    if (lines)
      s += "<line x1=\"" + fmt(x) + "\" x2=\"" + fmt(x + 18) + "\" y1=\"" + fmt(y) + "\" y2=\"" +
           fmt(y) + "\" stroke=\"" + palette(i) + "\" stroke-width=\"2\"/>\n";
    else
      s += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y - 6) +
           "\" width=\"12\" height=\"12\" fill=\"" + palette(i) + "\"/>\n";
    s += "<text x=\"" + fmt(x + 24) + "\" y=\"" + fmt(y + 4) + "\">" + xml_escape(names[i]) +
         "</text>\n";
  }
  return s;
}

double finite_or_zero(double v) {
  return std::isfinite(v) ? v : 0.0;
}

}  // namespace

std::string stacked_bar_svg(const StackedBarChart& chart) {
  size_t bar_count = 0;
  double top = 0.0;
  bool multi_bar = false;
  for (const auto& g : chart.groups) {
    bar_count += g.bars.size();
    multi_bar = multi_bar || g.bars.size() > 1;
    for (const auto& b : g.bars) {
      double sum = 0.0;
      for (double v : b.values) sum += std::max(0.0, finite_or_zero(v));
      top = std::max(top, sum);
    }
  }
  const double bar_width = 22, bar_gap = 4, group_gap = 18;
  const double plot_width =
      std::max(360.0, static_cast<double>(bar_count) * (bar_width + bar_gap) +
                          static_cast<double>(chart.groups.size()) * group_gap);
  const double bottom_margin = multi_bar ? 150 : 110;
  const double width = kLeft + plot_width + 20 + kLegendWidth;
  const double height = kHeight + bottom_margin - 110;
  const double plot_left = kLeft, plot_right = kLeft + plot_width;
  const double plot_bottom = height - bottom_margin, plot_top = kTop;
  const std::vector<double> ticks = nice_ticks(0.0, top > 0 ? top : 1.0, 5);
  const double high = ticks.back();

  std::string s = svg_open(width, height, chart.title);
  s += y_axis(ticks, plot_left, plot_right, plot_top, plot_bottom, chart.y_label);
  double x = plot_left + group_gap / 2;
  for (const auto& g : chart.groups) {
    const double group_start = x;
    for (const auto& b : g.bars) {
      double base = 0.0;
      for (size_t k = 0; k < b.values.size(); ++k) {
        const double v = std::max(0.0, finite_or_zero(b.values[k]));
        if (v <= 0.0) continue;
        const double y0 = plot_bottom - base / high * (plot_bottom - plot_top);
        const double y1 = plot_bottom - (base + v) / high * (plot_bottom - plot_top);
        const std::string name = k < chart.series.size() ? chart.series[k] : "";
        s += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y1) + "\" width=\"" + fmt(bar_width) +
             "\" height=\"" + fmt(y0 - y1) + "\" fill=\"" + palette(k) + "\"><title>" +
             xml_escape(g.label + (b.label.empty() ? "" : " / " + b.label) + ": " + name + " " +
                        short_number(v)) +
             "</title></rect>\n";
        base += v;
      }
      if (!b.label.empty()) {
        const double cx = x + bar_width / 2;
        s += "<text transform=\"translate(" + fmt(cx + 3) + "," + fmt(plot_bottom + 6) +
             ") rotate(-60)\" text-anchor=\"end\" font-size=\"9\">" + xml_escape(b.label) +
             "</text>\n";
      }
      x += bar_width + bar_gap;
    }
    const double centre = (group_start + x - bar_gap) / 2;
    const double label_y = plot_bottom + (multi_bar ? 86 : 14);
    s += "<text transform=\"translate(" + fmt(centre) + "," + fmt(label_y) +
         ") rotate(-30)\" text-anchor=\"end\">" + xml_escape(g.label) + "</text>\n";
    x += group_gap;
  }
  s += legend(chart.series, plot_right + 20, false);
  return s + "</svg>\n";
}

std::string line_chart_svg(const LineChart& chart) {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin;
  double ymin = 0.0, ymax = -std::numeric_limits<double>::infinity();
  for (const auto& series : chart.series)
    for (const auto& [x, y] : series.points) {
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymin = std::min(ymin, y);
      ymax = std::max(ymax, y);
    }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1;
  if (!std::isfinite(ymax)) ymax = 1;
  if (xmax <= xmin) xmin -= 0.05, xmax += 0.05;
  const double width = 640 + kLegendWidth, height = kHeight;
  const double plot_left = kLeft, plot_right = 620, plot_top = kTop, plot_bottom = height - 60;
  const std::vector<double> yt = nice_ticks(ymin, ymax > ymin ? ymax : ymin + 1, 5);
  const std::vector<double> xt = nice_ticks(xmin, xmax, 6);
  const double x0 = std::min(xt.front(), xmin), x1 = std::max(xt.back(), xmax);
  auto px = [&](double x) { return plot_left + (x - x0) / (x1 - x0) * (plot_right - plot_left); };
  auto py = [&](double y) {
    return plot_bottom - (y - yt.front()) / (yt.back() - yt.front()) * (plot_bottom - plot_top);
  };

  std::string s = svg_open(width, height, chart.title);
  s += y_axis(yt, plot_left, plot_right, plot_top, plot_bottom, chart.y_label);
  for (double t : xt) {
    if (t < x0 - 1e-12 || t > x1 + 1e-12) continue;
    s += "<text x=\"" + fmt(px(t)) + "\" y=\"" + fmt(plot_bottom + 16) +
         "\" text-anchor=\"middle\">" + xml_escape(short_number(t)) + "</text>\n";
  }
  s += "<text x=\"" + fmt((plot_left + plot_right) / 2) + "\" y=\"" + fmt(plot_bottom + 38) +
       "\" text-anchor=\"middle\">" + xml_escape(chart.x_label) + "</text>\n";
  std::vector<std::string> names;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    auto points = chart.series[i].points;
    std::sort(points.begin(), points.end());
    names.push_back(chart.series[i].name);
    if (points.size() > 1) {
      std::string path;
      for (const auto& [x, y] : points) path += fmt(px(x)) + "," + fmt(py(y)) + " ";
      s += "<polyline fill=\"none\" stroke=\"" + palette(i) + "\" stroke-width=\"2\" points=\"" +
           path + "\"/>\n";
    }
    for (const auto& [x, y] : points)
      s += "<circle cx=\"" + fmt(px(x)) + "\" cy=\"" + fmt(py(y)) + "\" r=\"3.5\" fill=\"" +
           palette(i) + "\"><title>" +
           xml_escape(chart.series[i].name + ": " + short_number(x) + ", " + short_number(y)) +
           "</title></circle>\n";
  }
  s += legend(names, plot_right + 20, true);
  return s + "</svg>\n";
}

}  // namespace eg::render
