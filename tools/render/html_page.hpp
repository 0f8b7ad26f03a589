#pragma once
// A self-contained HTML page: inline CSS, inline SVG, no scripts, no external resources, so it
// opens from disk anywhere. Links it makes point only at files that exist (checked when added) or
// that are written together with the page.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace eg::render {

class HtmlPage {
 public:
  // `dir` is where the page will be written; links are made relative to it.
  HtmlPage(std::string title, std::filesystem::path dir);
  void heading(const std::string& text, int level = 2);
  void paragraph(const std::string& text);  // escaped
  void note(const std::string& text);       // a highlighted remark (e.g. a missing figure)
  void raw(const std::string& html);
  void figure(const std::string& svg, const std::string& caption);
  void table(const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows);           // cells escaped
  void preformatted(const std::string& summary, const std::string& text);  // collapsible block
  // `file` (relative to the page) will be written in the same all-or-nothing write as the page,
  // so links to it are made although it does not exist yet.
  void written_with(const std::filesystem::path& file);
  // An <a href> to `target` if it exists or is written with the page (relative to the page), else
  // the plain label.
  std::string link(const std::filesystem::path& target, const std::string& label) const;
  std::string render() const;

 private:
  std::string title_;
  std::filesystem::path dir_;
  std::string body_;
  std::set<std::filesystem::path> written_with_;
};

}  // namespace eg::render
