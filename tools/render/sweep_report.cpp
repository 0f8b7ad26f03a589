#include "tools/render/sweep_report.hpp"

#include <map>
#include <set>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"
#include "tools/render/charts.hpp"
#include "tools/render/html_page.hpp"
#include "tools/render/report_charts.hpp"
#include "tools/render/run_report.hpp"
#include "tools/render/scatter_chart.hpp"
#include "tools/render/svg_text.hpp"

namespace eg::render {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string text_of(const json& v) {
  if (v.is_null()) return "";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string hw_name(const json& row) {
  return fs::path(text_of(row["hw_config"])).stem().string();
}

// A line-chart series is every point that differs only in pruning rate. Its name lists only the
// parameters that vary across the sweep, so a one-network sweep does not repeat the network.
class SeriesNamer {
 public:
  explicit SeriesNamer(const json& rows) {
    for (const auto& row : rows)
      for (const auto& key : keys_) values_[key].insert(value(row, key));
  }
  std::string key(const json& row) const {
    std::string k;
    for (const auto& key : keys_) k += value(row, key) + "|";
    return k;
  }
  std::string name(const json& row, bool with_label = true) const {
    std::string n;
    for (const auto& key : keys_) {
      if (key == "label" && !with_label) continue;
      if (key == "mode" || values_.at(key).size() > 1) {
        const std::string v = readable(key, value(row, key));
        if (v.empty()) continue;
        n += (n.empty() ? "" : " · ") + v;
      }
    }
    return n;
  }
  // One sweep point: its series name, and its pruning rate when that varies too.
  // Without the grid's label when a chart's colours and legend show it.
  std::string point_name(const json& row, bool with_label = true) const {
    std::string n = name(row, with_label);
    if (pruning_rates_.size() > 1) n += " · P " + text_of(row.value("pruning_rate", json()));
    return n;
  }
  void add_pruning_rates(const json& rows) {
    for (const auto& row : rows) pruning_rates_.insert(text_of(row.value("pruning_rate", json())));
  }

 private:
  static std::string value(const json& row, const std::string& key) {
    return key == "hw_config" ? hw_name(row) : text_of(row.value(key, json(nullptr)));
  }
  // How each parameter reads in a legend: its default says what is off.
  static std::string readable(const std::string& key, const std::string& v) {
    if (v.empty()) return "";
    if (key == "seed") return "seed " + v;
    if (key == "smd_drop_prob") return v == "0" || v == "0.0" ? "no SMD" : "SMD " + v;
    if (key == "weight_gradient") return v == "psg" ? "PSG" : "exact dW";
    if (key == "slu_target_skip") return v == "0" || v == "0.0" ? "no SLU" : "SLU skip " + v;
    if (key == "trainable_last") return v == "0" ? "all layers train" : "last " + v + " train";
    if (key == "grad_filter") return v == "0" ? "no GF" : "GF R" + v;
    if (key == "train_range") return "images " + v;
    if (key == "init_from") return "from " + fs::path(v).filename().string();
    return v;
  }
  const std::vector<std::string> keys_{
      "label",          "mode",        "hw_config",     "backward_schedule", "network",
      "dataset",        "seed",        "smd_drop_prob", "weight_gradient",   "slu_target_skip",
      "trainable_last", "grad_filter", "init_from",     "train_range"};
  std::map<std::string, std::set<std::string>> values_;
  std::set<std::string> pruning_rates_;
};

// Test accuracy against an energy column, one labelled point per sweep point, coloured by the
// grid's label (or the mode when grids have no label).
std::optional<ScatterChart> accuracy_versus(const json& rows, const SeriesNamer& namer,
                                            const std::string& column, const std::string& title,
                                            const std::string& x_label) {
  ScatterChart chart{title, x_label, "test accuracy", {}, {}};
  std::map<std::string, size_t> groups;
  for (const auto& row : rows) {
    const json& x = row.value(column, json(nullptr));
    const json& y = row.value("test_accuracy", json(nullptr));
    if (!x.is_number() || !y.is_number()) continue;
    std::string group = text_of(row.value("label", json(nullptr)));
    if (group.empty()) group = text_of(row.value("mode", json(nullptr)));
    if (!groups.count(group)) {
      groups[group] = chart.groups.size();
      chart.groups.push_back(group);
    }
    chart.points.push_back(
        {x.get<double>(), y.get<double>(), namer.point_name(row, false), groups[group]});
  }
  if (chart.points.empty()) return std::nullopt;
  return chart;
}

std::optional<LineChart> versus_pruning(const json& rows, const SeriesNamer& namer,
                                        const std::string& column, const std::string& title,
                                        const std::string& y_label) {
  LineChart chart{title, "pruning rate P", y_label, {}};
  std::map<std::string, size_t> index;
  bool any = false;
  for (const auto& row : rows) {
    const json& v = row.value(column, json(nullptr));
    const json& p = row.value("pruning_rate", json(nullptr));
    if (!v.is_number() || !p.is_number()) continue;
    const std::string k = namer.key(row);
    if (!index.count(k)) {
      index[k] = chart.series.size();
      chart.series.push_back({namer.name(row), {}});
    }
    chart.series[index[k]].points.emplace_back(p.get<double>(), v.get<double>());
    any = true;
  }
  if (!any) return std::nullopt;
  return chart;
}

std::optional<StackedBarChart> energy_by_phase(const json& rows, const SeriesNamer& namer) {
  StackedBarChart chart;
  chart.title = "Energy by component per phase, every point";
  chart.y_label = "energy (pJ)";
  chart.series = energy_parts();
  bool any = false;
  for (const auto& phase : report_phases()) {
    StackedBarChart::Group group{phase, {}};
    for (const auto& row : rows) {
      StackedBarChart::Bar bar{namer.name(row) + " P=" + text_of(row["pruning_rate"]), {}};
      bool found = false;
      for (const auto& part : energy_parts()) {
        const json& v = row.value("energy_pj_" + phase + "_" + part, json(nullptr));
        found = found || v.is_number();
        bar.values.push_back(v.is_number() ? v.get<double>() : 0.0);
      }
      if (found) group.bars.push_back(bar);
      any = any || found;
    }
    if (!group.bars.empty()) chart.groups.push_back(group);
  }
  if (!any) return std::nullopt;
  return chart;
}

std::string cell(const json& row, const std::string& column) {
  const json& v = row.value(column, json(nullptr));
  if (v.is_null()) return "<i>missing</i>";
  if (v.is_number()) return table_number(v.get<double>());
  return xml_escape(text_of(v));
}

// Groups per-column counts of missing figures into what a reader recognises.
std::map<std::string, int> missing_by_topic(const json& missing) {
  std::map<std::string, int> topics;
  for (const auto& item : missing.items()) {
    const std::string& c = item.key();
    std::string topic = c;
    if (c.rfind("energy_pj", 0) == 0)
      topic = "energy (energy_pj_*)";
    else if (c.rfind("dram", 0) == 0)
      topic = "DRAM traffic (dram_*)";
    else if (c.rfind("cycles_", 0) == 0 && c != "cycles_total")
      topic = "per-phase cycles (cycles_*)";
    topics[topic] = std::max(topics[topic], item.value().get<int>());
  }
  return topics;
}

}  // namespace

std::vector<std::string> write_sweep_report(const json& summary, const json& sweep,
                                            const fs::path& out_dir) {
  const fs::path dir = fs::absolute(out_dir);
  const json rows = summary.value("rows", json::array());
  SeriesNamer namer(rows);
  namer.add_pruning_rates(rows);
  const std::string name = summary.value("name", std::string("sweep"));
  HtmlPage page("egsim sweep: " + name, dir);
  if (!summary.value("description", std::string()).empty())
    page.paragraph(summary["description"].get<std::string>());
  page.paragraph(text_of(summary["points_done"]) + " of " + text_of(summary["points_total"]) +
                 " points finished.");
  if (!summary.value("missing_points", json::array()).empty()) {
    std::string ids;
    for (const auto& id : summary["missing_points"]) ids += (ids.empty() ? "" : ", ") + text_of(id);
    page.note("Not finished (no result yet): " + ids + ".");
  }
  for (const auto& [topic, count] :
       missing_by_topic(summary.value("missing_figures", json::object())))
    page.note(std::to_string(count) + " of " + text_of(summary["points_done"]) +
              " points have no " + topic +
              " in their results (absent from the simulator's report or the trainer's metrics); "
              "shown as missing, not zero.");
  page.raw("<p>Data: " + page.link(dir / "summary.csv", "summary.csv") + " · " +
           page.link(dir / "summary.json", "summary.json") + " · " +
           page.link(dir / "timing.json", "timing.json") + "</p>\n");

  // Each point's own page, drawn from its report.
  std::vector<std::vector<std::string>> table;
  for (const auto& row : rows) {
    const fs::path report_file = dir / text_of(row.value("report", json("")));
    std::string point_cell = xml_escape(text_of(row["id"]));
    if (!text_of(row.value("report", json(""))).empty() && fs::is_regular_file(report_file)) {
      const fs::path html = report_file.parent_path() / "report.html";
      std::string point_page;
      try {
        point_page = run_html(load_json_file(report_file), html.parent_path());
      } catch (const Error&) {
        point_cell += " (report unreadable)";
      } catch (const json::exception&) {
        point_cell += " (report unreadable)";
      }
      if (!point_page.empty()) {
        write_file_atomic(html, point_page);
        point_cell = page.link(html, text_of(row["id"]));
      }
    }
    table.push_back({point_cell,
                     cell(row, "label"),
                     cell(row, "mode"),
                     cell(row, "network"),
                     cell(row, "dataset"),
                     cell(row, "seed"),
                     xml_escape(hw_name(row)),
                     cell(row, "backward_schedule"),
                     cell(row, "pruning_rate"),
                     cell(row, "smd_drop_prob"),
                     cell(row, "weight_gradient"),
                     cell(row, "slu_target_skip"),
                     cell(row, "trainable_last"),
                     cell(row, "grad_filter"),
                     cell(row, "train_range"),
                     cell(row, "test_accuracy"),
                     cell(row, "iterations_executed"),
                     cell(row, "cycles_total"),
                     cell(row, "cycles_backward"),
                     cell(row, "energy_pj_total"),
                     cell(row, "energy_pj_run_total"),
                     cell(row, "dram_bytes")});
  }
  page.heading("Summary");
  page.table({"point",
              "label",
              "mode",
              "network",
              "dataset",
              "seed",
              "hw config",
              "backward schedule",
              "P",
              "SMD drop p",
              "weight gradient",
              "SLU target skip",
              "trainable last K",
              "grad filter R",
              "train range",
              "test accuracy",
              "executed iterations",
              "cycles",
              "backward cycles",
              "energy per iteration (pJ)",
              "energy of the run (pJ)",
              "DRAM bytes"},
             table);

  page.heading("Against pruning rate");
  std::vector<std::string> written;
  auto emit = [&](const std::string& file, const std::string& svg, const std::string& caption) {
    const fs::path path = dir / "plots" / file;
    fs::create_directories(path.parent_path());
    write_file_atomic(path, svg);
    written.push_back("plots/" + file);
    page.figure(svg, xml_escape(caption) + " (" + page.link(path, "plots/" + file) + ")");
  };
  struct Plot {
    const char *file, *column, *title, *y_label;
  };
  const Plot plots[] = {{"accuracy_vs_pruning.svg", "test_accuracy",
                         "Test accuracy vs pruning rate", "test accuracy"},
                        {"cycles_vs_pruning.svg", "cycles_total",
                         "Cycles per training iteration vs pruning rate", "cycles"},
                        {"backward_cycles_vs_pruning.svg", "cycles_backward",
                         "Backward-phase cycles vs pruning rate", "cycles"},
                        {"energy_vs_pruning.svg", "energy_pj_total",
                         "Energy per training iteration vs pruning rate", "energy (pJ)"},
                        {"run_energy_vs_pruning.svg", "energy_pj_run_total",
                         "Energy of the whole training run (per iteration x executed "
                         "iterations) vs pruning rate",
                         "energy (pJ)"},
                        {"dram_vs_pruning.svg", "dram_bytes",
                         "DRAM traffic per training iteration vs pruning rate", "bytes"}};
  for (const auto& plot : plots) {
    if (auto chart = versus_pruning(rows, namer, plot.column, plot.title, plot.y_label))
      emit(plot.file, line_chart_svg(*chart), plot.title);
    else {
      fs::remove(dir / "plots" / plot.file);  // a stale plot from an earlier merge would mislead
      page.note(std::string("No point has ") + plot.column + ": plot '" + plot.title +
                "' not drawn.");
    }
  }
  page.heading("Accuracy against energy");
  // Per iteration always; the whole run when mini-batch dropping makes the two rank differently.
  bool drops = false;
  for (const auto& row : rows) {
    const json& d = row.value("smd_drop_prob", json(nullptr));
    drops = drops || (d.is_number() && d.get<double>() != 0.0);
  }
  struct Scatter {
    const char *file, *column, *title, *x_label;
    bool wanted;
  };
  const Scatter scatters[] = {
      {"accuracy_vs_energy.svg", "energy_pj_total",
       "Test accuracy vs simulated energy per training iteration", "energy per iteration (pJ)",
       true},
      {"accuracy_vs_run_energy.svg", "energy_pj_run_total",
       "Test accuracy vs simulated energy of the whole run (per iteration x executed iterations)",
       "energy of the run (pJ)", drops}};
  for (const auto& scatter : scatters) {
    std::optional<ScatterChart> chart;
    if (scatter.wanted)
      chart = accuracy_versus(rows, namer, scatter.column, scatter.title, scatter.x_label);
    if (chart) {
      emit(scatter.file, scatter_chart_svg(*chart),
           std::string(scatter.title) + ", one point per sweep point");
    } else {
      fs::remove(dir / "plots" / scatter.file);  // stale from an earlier merge
      if (scatter.wanted)
        page.note(std::string("No point has both test_accuracy and ") + scatter.column +
                  ": plot '" + scatter.title + "' not drawn.");
    }
  }

  page.heading("Energy by component");
  if (auto chart = energy_by_phase(rows, namer))
    emit("energy_by_phase.svg", stacked_bar_svg(*chart),
         "Energy per phase, stacked by component, for every point (EfficientGrad and baseline "
         "side by side)");
  else {
    fs::remove(dir / "plots" / "energy_by_phase.svg");
    page.note("No point has per-phase energy: energy-by-component chart not drawn.");
  }

  page.heading("Configurations used");
  page.preformatted("sweep config " + text_of(sweep.value("config_path", json(""))),
                    sweep.value("config", json::object()).dump(2));
  const json hw_configs = sweep.value("hw_configs", json::object());
  for (const auto& item : hw_configs.items())
    page.preformatted("hardware config " + item.key(), item.value().dump(2));
  write_file_atomic(dir / "report.html", page.render());
  return written;
}

}  // namespace eg::render
