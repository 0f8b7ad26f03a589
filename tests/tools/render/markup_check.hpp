#pragma once
// Checks on generated markup shared by the render and sweep tests.
#include <regex>
#include <string>
#include <vector>

namespace eg::testing {

// Empty if `text` is one well-formed <svg> document (every element closed, in order); else why not.
inline std::string svg_problem(const std::string& text) {
  if (text.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) != 0) return "no <svg xmlns> root";
  std::vector<std::string> open;
  const std::regex tag(R"(<(/?)([a-zA-Z]+)[^>]*?(/?)>)");
  for (std::sregex_iterator it(text.begin(), text.end(), tag), end; it != end; ++it) {
    const std::string name = (*it)[2];
    if ((*it)[1] == "/") {
      if (open.empty() || open.back() != name) return "unbalanced </" + name + ">";
      open.pop_back();
    } else if ((*it)[3] != "/") {
      open.push_back(name);
    }
    if (open.empty() && it->position() + it->length() < static_cast<long>(text.size()) - 1)
      return "content after the root element";
  }
  return open.empty() ? "" : "<" + open.back() + "> not closed";
}

// Every href="..." and src="..." target in an HTML text.
inline std::vector<std::string> html_links(const std::string& text) {
  std::vector<std::string> links;
  const std::regex attribute(R"((?:href|src)=\"([^\"]*)\")");
  for (std::sregex_iterator it(text.begin(), text.end(), attribute), end; it != end; ++it)
    links.push_back((*it)[1]);
  return links;
}

}  // namespace eg::testing
