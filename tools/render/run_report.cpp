#include "tools/render/run_report.hpp"

#include "base/files.hpp"
#include "tools/render/html_page.hpp"
#include "tools/render/report_charts.hpp"
#include "tools/render/svg_text.hpp"

namespace eg::render {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string cell(const json& doc, const std::string& pointer) {
  const auto v = number_at(doc, pointer);
  return v ? table_number(*v) : "<i>missing</i>";
}

// (row label, pointer relative to a FIGURES object)
const std::vector<std::pair<std::string, std::string>>& figure_rows() {
  static const std::vector<std::pair<std::string, std::string>> rows{
      {"cycles", "/cycles"},
      {"seconds", "/seconds"},
      {"MACs issued", "/macs_issued"},
      {"MACs skipped", "/macs_skipped"},
      {"utilisation", "/utilization"},
      {"GOP/s", "/gops"},
      {"power (mW)", "/power_mw"},
      {"chip power (mW)", "/chip_power_mw"},
      {"DRAM power (mW)", "/dram_power_mw"},
      {"energy total (pJ)", "/energy_pj/total"},
      {"DRAM read (bytes)", "/dram/read_bytes"},
      {"DRAM written (bytes)", "/dram/write_bytes"}};
  return rows;
}

std::string describe_trace(const json& report) {
  const json t = report.value("trace", json::object());
  std::string text;
  for (const char* key : {"network", "mode", "pruning_rate", "iteration", "batch"})
    if (t.contains(key))
      text += std::string(text.empty() ? "" : ", ") + key + " " +
              (t[key].is_string() ? t[key].get<std::string>() : t[key].dump());
  return text.empty() ? "trace not described in the report" : text;
}

}  // namespace

std::string run_html(const json& report, const fs::path& out_dir, const json* baseline,
                     const std::vector<std::string>& written_with) {
  const fs::path dir = fs::absolute(out_dir);
  HtmlPage page("egsim report: " + describe_trace(report), dir);
  for (const std::string& file : written_with) page.written_with(file);
  page.paragraph("Trace: " + describe_trace(report) + ". Clock " + cell(report, "/clock_mhz") +
                 " MHz. Report schema " + report.value("schema", std::string("?")) + " version " +
                 (report.contains("version") ? report["version"].dump() : "?") + ".");
  page.raw("<p>Files: " + page.link(dir / "report.json", "report.json") + " · " +
           page.link(dir / "report.csv", "report.csv") + "</p>\n");

  std::vector<std::string> missing;
  if (!number_at(report, "/totals/energy_pj/total")) missing.push_back("energy (totals/energy_pj)");
  if (!number_at(report, "/totals/dram/read_bytes"))
    missing.push_back("DRAM traffic (totals/dram)");
  for (const auto& m : missing)
    page.note("This report has no " + m +
              "; the simulator did not produce it, so it is shown as "
              "missing rather than zero.");

  page.heading("Totals and phases");
  std::vector<std::string> phases;
  for (const auto& phase : report_phases())
    if (report.contains(json::json_pointer("/phases/" + phase))) phases.push_back(phase);
  std::vector<std::string> header{"figure", "total"};
  header.insert(header.end(), phases.begin(), phases.end());
  if (baseline) header.insert(header.end(), {"baseline total", "baseline / this"});
  std::vector<std::vector<std::string>> rows;
  for (const auto& [label, ptr] : figure_rows()) {
    std::vector<std::string> row{xml_escape(label), cell(report, "/totals" + ptr)};
    for (const auto& phase : phases) row.push_back(cell(report, "/phases/" + phase + ptr));
    if (baseline) {
      row.push_back(cell(*baseline, "/totals" + ptr));
      const auto a = number_at(report, "/totals" + ptr), b = number_at(*baseline, "/totals" + ptr);
      row.push_back(a && b && *a != 0 ? table_number(*b / *a) : "<i>n/a</i>");
    }
    rows.push_back(row);
  }
  page.table(header, rows);

  page.heading("Energy by component");
  std::vector<const json*> reports{&report};
  std::vector<std::string> names{"this run"};
  if (baseline) {
    reports.insert(reports.begin(), baseline);
    names.insert(names.begin(), "baseline");
  }
  if (auto chart = energy_by_phase_chart(reports, names))
    page.figure(stacked_bar_svg(*chart), "Energy (pJ) per phase, stacked by component.");
  else
    page.note("No per-phase energy in this report: energy chart not drawn.");

  page.heading("Per layer");
  if (auto chart = layer_utilization_chart(report))
    page.figure(stacked_bar_svg(*chart),
                "Utilisation = MACs issued / (cycles x peak MACs per cycle).");
  else
    page.note("No per-layer utilisation in this report.");
  if (auto chart = layer_dram_chart(report))
    page.figure(stacked_bar_svg(*chart), "DRAM bytes per layer, summed over phases.");
  else
    page.note("No per-layer DRAM traffic in this report: DRAM chart not drawn.");

  if (report.contains("layers") && report["layers"].is_array()) {
    std::vector<std::vector<std::string>> layer_rows;
    for (const auto& layer : report["layers"]) {
      if (!layer.contains("phases")) continue;
      for (const auto& item : layer["phases"].items()) {
        const json& f = item.value();
        layer_rows.push_back({xml_escape(layer.value("name", "?")),
                              xml_escape(layer.value("type", "?")), xml_escape(item.key()),
                              cell(f, "/cycles"), cell(f, "/macs_issued"), cell(f, "/macs_skipped"),
                              cell(f, "/utilization"), cell(f, "/energy_pj/total"),
                              cell(f, "/dram/read_bytes"), cell(f, "/dram/write_bytes")});
      }
    }
    page.table({"layer", "type", "phase", "cycles", "MACs issued", "MACs skipped", "utilisation",
                "energy (pJ)", "DRAM read", "DRAM written"},
               layer_rows);
  }

  page.heading("Configuration used");
  page.preformatted("hardware config", report.value("config", json::object()).dump(2));
  page.preformatted("trace", report.value("trace", json::object()).dump(2));
  return page.render();
}

void write_run_html(const json& report, const fs::path& out_html, const json* baseline) {
  write_file_atomic(out_html, run_html(report, fs::absolute(out_html).parent_path(), baseline));
}

}  // namespace eg::render
