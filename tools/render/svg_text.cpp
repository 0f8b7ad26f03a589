#include "tools/render/svg_text.hpp"

#include <cmath>
#include <cstdio>

namespace eg::render {

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double low, double high, int count) {
  if (!(high > low)) high = low + 1.0;
  const double raw = (high - low) / std::max(1, count);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  const double first = std::floor(low / step) * step;
  // Up to and including the first tick at or above `high`, so the axis covers every value.
  for (int i = 0; i <= 50; ++i) {
    const double t = first + i * step;
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    if (t >= high - step * 1e-9) break;
  }
  return ticks;
}

std::string short_number(double value) {
  const double a = std::abs(value);
  char text[32];
  const char* suffix = "";
  double v = value;
  if (a >= 1e12) {
    v = value / 1e12;
    suffix = "T";
  } else if (a >= 1e9) {
    v = value / 1e9;
    suffix = "G";
  } else if (a >= 1e6) {
    v = value / 1e6;
    suffix = "M";
  } else if (a >= 1e3) {
    v = value / 1e3;
    suffix = "k";
  }
  std::snprintf(text, sizeof text, "%.3g%s", v, suffix);
  return text;
}

std::string table_number(double value) {
  char text[64];
  if (std::abs(value) >= 1e4 && std::abs(value) < 1e15 && value == std::floor(value)) {
    std::snprintf(text, sizeof text, "%.0f", value);
    std::string digits = text, grouped;
    const size_t sign = (digits[0] == '-') ? 1 : 0;
    for (size_t i = sign; i < digits.size(); ++i) {
      if (i > sign && (digits.size() - i) % 3 == 0) grouped += ',';
      grouped += digits[i];
    }
    return (sign ? "-" : "") + grouped;
  }
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string palette(size_t index) {
  static const char* colours[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
                                  "#D55E00", "#F0E442", "#000000", "#999999", "#8C564B"};
  return colours[index % (sizeof colours / sizeof colours[0])];
}

}  // namespace eg::render
