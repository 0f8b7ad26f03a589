#include "tools/compare/report_compare.hpp"

#include <cstdio>
#include <map>
#include <sstream>
#include <vector>

#include "base/error.hpp"
#include "base/quote.hpp"

namespace eg::compare {

using nlohmann::json;

namespace {

const char* const kPhases[] = {"forward", "backward", "weight_gradient", "weight_update"};

void fail(const std::string& file, const std::string& pointer, const std::string& problem) {
  throw Error(file + ": " + pointer + ": " + problem);
}

// Numeric leaves of a FIGURES object, keyed by their dotted path.
void flatten(const json& j, const std::string& prefix, std::map<std::string, double>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object())
      flatten(*it, key, out);
    else if (it->is_number())
      out[key] = it->get<double>();
  }
}

json ratio(double num, double den) {
  return den == 0.0 ? json(nullptr) : json(num / den);
}

json side_by_side(const json& a, const json& b) {
  return {{"a", a},
          {"b", b},
          {"b_over_a", a.is_number() && b.is_number() ? ratio(b.get<double>(), a.get<double>())
                                                      : json(nullptr)},
          {"a_over_b", a.is_number() && b.is_number() ? ratio(a.get<double>(), b.get<double>())
                                                      : json(nullptr)}};
}

json compare_figures(const json& a, const json& b) {
  std::map<std::string, double> fa, fb;
  flatten(a, "", fa);
  flatten(b, "", fb);
  std::map<std::string, std::pair<json, json>> all;
  for (const auto& [k, v] : fa) all[k].first = v;
  for (const auto& [k, v] : fb) all[k].second = v;
  json out = json::object();
  for (const auto& [k, v] : all) out[k] = side_by_side(v.first, v.second);
  return out;
}

json number_at(const json& figures, const std::vector<const char*>& path) {
  const json* j = &figures;
  for (const char* key : path) {
    if (!j->is_object() || !j->contains(key)) return nullptr;
    j = &(*j)[key];
  }
  return j->is_number() ? *j : json(nullptr);
}

json dram_traffic(const json& figures) {
  json r = number_at(figures, {"dram", "read_bytes"});
  json w = number_at(figures, {"dram", "write_bytes"});
  if (!r.is_number() || !w.is_number()) return nullptr;
  return r.get<double>() + w.get<double>();
}

json identity(const json& report, const std::string& file) {
  json id = {{"file", file}};
  if (report.contains("trace")) id["trace"] = report["trace"];
  if (report.contains("clock_mhz")) id["clock_mhz"] = report["clock_mhz"];
  return id;
}

std::string cell(const json& v) {
  if (!v.is_number()) return "-";
  char buf[32];
  double d = v.get<double>();
  if (d != 0.0 && (std::abs(d) >= 1e7 || std::abs(d) < 1e-3))
    std::snprintf(buf, sizeof buf, "%.4g", d);
  else
    std::snprintf(buf, sizeof buf, "%.4f", d);
  return buf;
}

void row(std::ostringstream& out, const std::string& name, const json& entry) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-26s %14s %14s %10s %10s\n", name.c_str(),
                cell(entry["a"]).c_str(), cell(entry["b"]).c_str(), cell(entry["b_over_a"]).c_str(),
                cell(entry["a_over_b"]).c_str());
  out << buf;
}

// A FIGURES object: nested objects whose leaves are all numbers, with the figures compare
// headlines present. A string or null where a number belongs is a malformed report, not a "-".
void check_numbers(const json& j, const std::string& file, const std::string& pointer) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string at = pointer + "/" + pointer_token(it.key());
    if (it->is_object())
      check_numbers(*it, file, at);
    else if (!it->is_number())
      fail(file, at, "must be a number");
  }
}

void check_figures(const json& figures, const std::string& file, const std::string& pointer) {
  if (!figures.is_object()) fail(file, pointer, "missing or not an object");
  if (!figures.contains("cycles")) fail(file, pointer + "/cycles", "missing");
  if (!figures.contains("energy_pj") || !figures["energy_pj"].is_object())
    fail(file, pointer + "/energy_pj", "missing or not an object");
  check_numbers(figures, file, pointer);
}

}  // namespace

void check_report(const json& report, const std::string& file) {
  if (!report.is_object()) fail(file, "/", "not a JSON object");
  if (!report.contains("schema") || report["schema"] != "egsim-report")
    fail(file, "/schema",
         "expected \"egsim-report\" (got " +
             (report.contains("schema") ? report["schema"].dump() : "nothing") + ")");
  if (!report.contains("version") || report["version"] != 1)
    fail(file, "/version",
         "expected 1 (got " + (report.contains("version") ? report["version"].dump() : "nothing") +
             ")");
  if (!report.contains("clock_mhz") || !report["clock_mhz"].is_number())
    fail(file, "/clock_mhz", "missing or not a number");
  if (!report.contains("trace") || !report["trace"].is_object())
    fail(file, "/trace", "missing or not an object");
  check_figures(report.contains("totals") ? report["totals"] : json(), file, "/totals");
  if (!report.contains("phases") || !report["phases"].is_object())
    fail(file, "/phases", "missing or not an object");
  for (const auto& [phase, figures] : report["phases"].items())
    check_figures(figures, file, "/phases/" + pointer_token(phase));
  if (!report.contains("layers") || !report["layers"].is_array())
    fail(file, "/layers", "missing or not an array");
  for (size_t i = 0; i < report["layers"].size(); ++i) {
    const json& layer = report["layers"][i];
    const std::string at = "/layers/" + std::to_string(i);
    if (!layer.is_object() || !layer.contains("name") || !layer["name"].is_string())
      fail(file, at + "/name", "missing or not a string");
    if (!layer.contains("phases") || !layer["phases"].is_object())
      fail(file, at + "/phases", "missing or not an object");
    for (const auto& [phase, figures] : layer["phases"].items())
      check_figures(figures, file, at + "/phases/" + pointer_token(phase));
  }
}

json compare_reports(const json& a, const std::string& a_file, const json& b,
                     const std::string& b_file) {
  check_report(a, a_file);
  check_report(b, b_file);
  json out = {{"schema", "egsim-compare"}, {"version", 1}};
  out["a"] = identity(a, a_file);
  out["b"] = identity(b, b_file);
  const json& ta = a["totals"];
  const json& tb = b["totals"];
  out["headline"] = {
      {"throughput_gops", side_by_side(number_at(ta, {"gops"}), number_at(tb, {"gops"}))},
      {"effective_throughput_gops",
       side_by_side(number_at(ta, {"effective_gops"}), number_at(tb, {"effective_gops"}))},
      {"power_mw", side_by_side(number_at(ta, {"power_mw"}), number_at(tb, {"power_mw"}))},
      {"chip_power_mw",
       side_by_side(number_at(ta, {"chip_power_mw"}), number_at(tb, {"chip_power_mw"}))},
      {"dram_power_mw",
       side_by_side(number_at(ta, {"dram_power_mw"}), number_at(tb, {"dram_power_mw"}))},
      {"energy_pj",
       side_by_side(number_at(ta, {"energy_pj", "total"}), number_at(tb, {"energy_pj", "total"}))},
      {"dram_traffic_bytes", side_by_side(dram_traffic(ta), dram_traffic(tb))},
      {"cycles", side_by_side(number_at(ta, {"cycles"}), number_at(tb, {"cycles"}))}};
  out["totals"] = compare_figures(ta, tb);
  out["phases"] = json::object();
  for (const char* phase : kPhases) {
    const bool in_a = a.contains("phases") && a["phases"].contains(phase);
    const bool in_b = b.contains("phases") && b["phases"].contains(phase);
    if (!in_a && !in_b) continue;  // a phase neither report has is absent, not zero
    out["phases"][phase] = compare_figures(in_a ? a["phases"][phase] : json::object(),
                                           in_b ? b["phases"][phase] : json::object());
  }
  return out;
}

std::string format_comparison(const json& c) {
  std::ostringstream out;
  out << "A: " << c["a"]["file"].get<std::string>() << "\n";
  out << "B: " << c["b"]["file"].get<std::string>() << "\n";
  char header[256];
  std::snprintf(header, sizeof header, "  %-26s %14s %14s %10s %10s\n", "figure", "A", "B", "B/A",
                "A/B");
  out << "\nheadline\n" << header;
  for (const char* k : {"throughput_gops", "effective_throughput_gops", "power_mw", "chip_power_mw",
                        "dram_power_mw", "energy_pj", "dram_traffic_bytes", "cycles"})
    if (c["headline"].contains(k)) row(out, k, c["headline"][k]);
  const std::vector<std::string> main_figures = {"cycles",
                                                 "macs_issued",
                                                 "macs_skipped",
                                                 "utilization",
                                                 "gops",
                                                 "effective_gops",
                                                 "power_mw",
                                                 "chip_power_mw",
                                                 "dram_power_mw",
                                                 "energy_pj.total",
                                                 "energy_pj.mac",
                                                 "energy_pj.spad",
                                                 "energy_pj.noc",
                                                 "energy_pj.glb",
                                                 "energy_pj.dram",
                                                 "energy_pj.ppu",
                                                 "energy_pj.leakage",
                                                 "dram.read_bytes",
                                                 "dram.write_bytes",
                                                 "dram.activates"};
  auto section = [&](const std::string& title, const json& figures) {
    out << "\n" << title << "\n" << header;
    for (const auto& f : main_figures)
      if (figures.contains(f)) row(out, f, figures[f]);
  };
  section("totals", c["totals"]);
  for (auto it = c["phases"].begin(); it != c["phases"].end(); ++it)
    section("phase " + it.key(), it.value());
  return out.str();
}

}  // namespace eg::compare
