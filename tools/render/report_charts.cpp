#include "tools/render/report_charts.hpp"

namespace eg::render {

using nlohmann::json;

const std::vector<std::string>& report_phases() {
  static const std::vector<std::string> phases{"forward", "backward", "weight_gradient",
                                               "weight_update"};
  return phases;
}

const std::vector<std::string>& energy_parts() {
  static const std::vector<std::string> parts{"mac",  "spad", "noc",    "glb",
                                              "dram", "ppu",  "leakage"};
  return parts;
}

std::optional<double> number_at(const json& doc, const std::string& pointer) {
  const json::json_pointer ptr(pointer);
  if (!doc.contains(ptr) || !doc.at(ptr).is_number()) return std::nullopt;
  return doc.at(ptr).get<double>();
}

std::optional<StackedBarChart> energy_by_phase_chart(const std::vector<const json*>& reports,
                                                     const std::vector<std::string>& names) {
  StackedBarChart chart;
  chart.title = "Energy by component per phase";
  chart.y_label = "energy (pJ)";
  chart.series = energy_parts();
  bool any = false;
  for (const auto& phase : report_phases()) {
    StackedBarChart::Group group{phase, {}};
    for (size_t r = 0; r < reports.size(); ++r) {
      if (!reports[r]->contains(json::json_pointer("/phases/" + phase))) continue;
      StackedBarChart::Bar bar{reports.size() > 1 ? names[r] : "", {}};
      for (const auto& part : energy_parts()) {
        const auto v = number_at(*reports[r], "/phases/" + phase + "/energy_pj/" + part);
        any = any || v.has_value();
        bar.values.push_back(v.value_or(0.0));
      }
      group.bars.push_back(bar);
    }
    if (!group.bars.empty()) chart.groups.push_back(group);
  }
  if (!any) return std::nullopt;
  return chart;
}

namespace {

bool has_macs(const json& layer) {
  const std::string type = layer.value("type", "");
  return type == "conv" || type == "fc";
}

}  // namespace

std::optional<StackedBarChart> layer_utilization_chart(const json& report) {
  if (!report.contains("layers") || !report["layers"].is_array()) return std::nullopt;
  StackedBarChart chart;
  chart.title = "PE-array utilisation per layer and phase";
  chart.y_label = "utilisation (issued MACs / peak)";
  // A series per phase; each bar carries only its own phase's value so the legend names the phase.
  const std::vector<std::string> phases{"forward", "backward", "weight_gradient"};
  chart.series = phases;
  bool any = false;
  for (const auto& layer : report["layers"]) {
    if (!has_macs(layer)) continue;
    StackedBarChart::Group group{layer.value("name", "?"), {}};
    for (size_t k = 0; k < phases.size(); ++k) {
      const auto v = number_at(layer, "/phases/" + phases[k] + "/utilization");
      if (!v) continue;
      any = true;
      std::vector<double> values(phases.size(), 0.0);
      values[k] = *v;
      group.bars.push_back({"", values});
    }
    if (!group.bars.empty()) chart.groups.push_back(group);
  }
  if (!any) return std::nullopt;
  return chart;
}

std::optional<StackedBarChart> layer_dram_chart(const json& report) {
  if (!report.contains("layers") || !report["layers"].is_array()) return std::nullopt;
  StackedBarChart chart;
  chart.title = "DRAM traffic per layer (all phases)";
  chart.y_label = "bytes";
  chart.series = {"read", "write"};
  bool any = false;
  for (const auto& layer : report["layers"]) {
    if (!layer.contains("phases") || !layer["phases"].is_object()) continue;
    double read = 0, write = 0;
    bool found = false;
    for (const auto& item : layer["phases"].items()) {
      const auto r = number_at(item.value(), "/dram/read_bytes");
      const auto w = number_at(item.value(), "/dram/write_bytes");
      found = found || r || w;
      read += r.value_or(0.0);
      write += w.value_or(0.0);
    }
    if (!found) continue;
    any = true;
    chart.groups.push_back({layer.value("name", "?"), {{"", {read, write}}}});
  }
  if (!any) return std::nullopt;
  return chart;
}

}  // namespace eg::render
