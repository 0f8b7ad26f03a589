#include "tools/render/html_page.hpp"

#include "tools/render/svg_text.hpp"

namespace eg::render {

namespace fs = std::filesystem;

HtmlPage::HtmlPage(std::string title, fs::path dir)
    : title_(std::move(title)), dir_(std::move(dir)) {}

void HtmlPage::heading(const std::string& text, int level) {
  const std::string tag = "h" + std::to_string(level);
  body_ += "<" + tag + ">" + xml_escape(text) + "</" + tag + ">\n";
}

void HtmlPage::paragraph(const std::string& text) {
  body_ += "<p>" + xml_escape(text) + "</p>\n";
}

void HtmlPage::note(const std::string& text) {
  body_ += "<p class=\"note\">" + xml_escape(text) + "</p>\n";
}

void HtmlPage::raw(const std::string& html) {
  body_ += html;
}

void HtmlPage::figure(const std::string& svg, const std::string& caption) {
  // Inline SVG is HTML5; drop nothing, the xmlns attribute is harmless there.
  body_ += "<figure>\n" + svg + "<figcaption>" + caption + "</figcaption>\n</figure>\n";
}

void HtmlPage::table(const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows) {
  body_ += "<table>\n<tr>";
  for (const auto& h : header) body_ += "<th>" + xml_escape(h) + "</th>";
  body_ += "</tr>\n";
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (const auto& cell : row) body_ += "<td>" + cell + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</table>\n";
}

void HtmlPage::preformatted(const std::string& summary, const std::string& text) {
  body_ += "<details><summary>" + xml_escape(summary) + "</summary>\n<pre>" + xml_escape(text) +
           "</pre></details>\n";
}

void HtmlPage::written_with(const fs::path& file) {
  written_with_.insert((file.is_absolute() ? file : dir_ / file).lexically_normal());
}

std::string HtmlPage::link(const fs::path& target, const std::string& label) const {
  const fs::path absolute = target.is_absolute() ? target : dir_ / target;
  if (!fs::exists(absolute) && !written_with_.count(absolute.lexically_normal()))
    return xml_escape(label);
  const std::string href = fs::relative(absolute, dir_).generic_string();
  return "<a href=\"" + xml_escape(href) + "\">" + xml_escape(label) + "</a>";
}

std::string HtmlPage::render() const {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         xml_escape(title_) +
         "</title>\n<style>\n"
         "body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}\n"
         "table{border-collapse:collapse;margin:1em 0;font-size:13px}\n"
         "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}\n"
         "th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}\n"
         ".note{background:#fff4d6;border-left:4px solid #e6a700;padding:6px 10px}\n"
         "figure{margin:1em 0;overflow-x:auto}figcaption{font-size:12px;color:#555}\n"
         "pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}\n"
         "</style>\n</head>\n<body>\n<h1>" +
         xml_escape(title_) + "</h1>\n" + body_ + "</body>\n</html>\n";
}

}  // namespace eg::render
