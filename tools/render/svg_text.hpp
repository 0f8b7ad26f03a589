#pragma once
// Small pieces shared by the SVG charts and the HTML pages: escaping, axis ticks, number labels,
// the colour palette.
#include <string>
#include <vector>

namespace eg::render {

std::string xml_escape(const std::string& text);  // also right for HTML text and attributes
// About `count` round tick values (1, 2, 5 x 10^k steps) covering [low, high].
std::vector<double> nice_ticks(double low, double high, int count);
// Compact label: 1.5k, 2.3M, 4G, 0.25, 12.
std::string short_number(double value);
// Readable number for tables: thousands grouping for large values, 4 significant digits otherwise.
std::string table_number(double value);
// Distinct colours (Okabe-Ito colour-blind-safe set, then a few more), cycling.
std::string palette(size_t index);

}  // namespace eg::render
