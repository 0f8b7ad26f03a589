#include "hw/array/report_writer.hpp"

#include <sstream>

#include "base/csv.hpp"
#include "base/error.hpp"
#include "models/dram/dram_stats_json.hpp"
#include "models/energy/energy_breakdown.hpp"

namespace eg::hw::array {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {
json actions_json(const ActionCounts& a) {
  return json{{"mac_8x8", a.mac_8x8},
              {"mac_16x8", a.mac_16x8},
              {"mac_10x4", a.mac_10x4},
              {"zero_skips", a.zero_skips},
              {"spad_iact_read_bits", a.spad_iact_read_bits},
              {"spad_iact_write_bits", a.spad_iact_write_bits},
              {"spad_weight_read_bits", a.spad_weight_read_bits},
              {"spad_weight_write_bits", a.spad_weight_write_bits},
              {"spad_feedback_read_bits", a.spad_feedback_read_bits},
              {"spad_feedback_write_bits", a.spad_feedback_write_bits},
              {"spad_psum_read_bits", a.spad_psum_read_bits},
              {"spad_psum_write_bits", a.spad_psum_write_bits},
              {"noc_iact_bit_hops", a.noc_iact_bit_hops},
              {"noc_weight_bit_hops", a.noc_weight_bit_hops},
              {"noc_psum_bit_hops", a.noc_psum_bit_hops},
              {"glb_iact_read_bits", a.glb_iact_read_bits},
              {"glb_iact_write_bits", a.glb_iact_write_bits},
              {"glb_psum_read_bits", a.glb_psum_read_bits},
              {"glb_psum_write_bits", a.glb_psum_write_bits},
              {"glb_grad_read_bits", a.glb_grad_read_bits},
              {"glb_grad_write_bits", a.glb_grad_write_bits},
              {"ppu_ops", a.ppu_ops}};
}
}  // namespace

energy::LeakageInventory leakage_inventory(const arch::ArchConfig& c) {
  const double pcs = c.array.pc_count();
  const double pes = c.array.pe_count();
  energy::LeakageInventory n;
  n.mac_lanes = pes * c.pe.macs_per_cycle;
  // Each scratchpad sized for the operand it is named after, as its access energy is priced
  // (configs/energy/generate_tables.py).
  n.spad_bits = pes * (static_cast<double>(c.pe.spad_iact_entries) * c.widths.activation +
                       static_cast<double>(c.pe.spad_weight_entries) * c.widths.weight +
                       static_cast<double>(c.pe.spad_feedback_entries) * c.widths.feedback +
                       static_cast<double>(c.pe.spad_psum_entries) * c.widths.psum);
  n.glb_kib = pcs *
              (static_cast<double>(c.glb.iact_banks) * static_cast<double>(c.glb.iact_bank_bytes) +
               static_cast<double>(c.glb.psum_banks) * static_cast<double>(c.glb.psum_bank_bytes) +
               static_cast<double>(c.glb.grad_banks) * static_cast<double>(c.glb.grad_bank_bytes)) /
              1024.0;
  n.noc_link_bits = pcs * (static_cast<double>(c.noc.iact_routers) * c.noc.iact_link_bits +
                           static_cast<double>(c.noc.weight_routers) * c.noc.weight_link_bits +
                           static_cast<double>(c.noc.psum_routers) * c.noc.psum_link_bits);
  n.ppu_lanes = pcs * c.ppu.elements_per_cycle;
  return n;
}

energy::EnergyBreakdown energy_of(const PhaseFigures& f, const arch::ArchConfig& config) {
  if (!config.energy)
    throw Error("config '" + config.name +
                "': /energy_table was not loaded (use load_arch_config)");
  energy::PricingOptions options;
  options.dram_background = config.offchip.dram_background_power;
  options.elapsed_seconds = static_cast<double>(f.cycles) / (config.clock_mhz * 1e6);
  options.leakage_mw = energy::leakage_mw(*config.energy, leakage_inventory(config));
  return energy::price(f.actions, f.dram.total, *config.energy, options);
}

json figures_json(const PhaseFigures& f, const arch::ArchConfig& config,
                  const std::vector<FiguresExtension>& extensions) {
  const double seconds = static_cast<double>(f.cycles) / (config.clock_mhz * 1e6);
  const energy::EnergyBreakdown energy = energy_of(f, config);
  // Average power, pJ / s -> mW: the whole system's, the chip's (dynamic plus leakage, the figure a
  // synthesised chip's power report gives) and the DRAM's.
  auto mw = [seconds](double pj) { return seconds > 0 ? pj * 1e-12 / seconds * 1e3 : 0.0; };
  const double power_mw = mw(energy.total);
  const double peak = static_cast<double>(config.array.pe_count()) * config.pe.macs_per_cycle;
  const double utilization =
      f.cycles ? static_cast<double>(f.macs.issued) / (static_cast<double>(f.cycles) * peak) : 0.0;
  const double gops = seconds > 0 ? 2.0 * static_cast<double>(f.macs.issued) / seconds / 1e9 : 0.0;
  // Dense-equivalent throughput: the training work done (issued + skipped MACs) per second. Zero-
  // skipping raises it without raising `gops`; a paper's speed-up compares this kind of figure.
  const double effective_gops =
      seconds > 0 ? 2.0 * static_cast<double>(f.macs.issued + f.macs.skipped) / seconds / 1e9 : 0.0;
  json offchip_classes = json::object();
  uint64_t reads = 0, writes = 0;
  for (int c = 0; c < kDataClassCount; ++c) {
    const size_t i = static_cast<size_t>(c);
    offchip_classes[to_string(static_cast<DataClass>(c))] = {
        {"read_bytes", f.offchip.read_bytes[i]}, {"write_bytes", f.offchip.write_bytes[i]}};
    reads += f.offchip.read_bytes[i];
    writes += f.offchip.write_bytes[i];
  }
  json j{{"cycles", f.cycles},
         {"seconds", seconds},
         {"macs_issued", f.macs.issued},
         {"macs_skipped", f.macs.skipped},
         {"utilization", utilization},
         {"gops", gops},
         {"effective_gops", effective_gops},
         {"power_mw", power_mw},
         {"chip_power_mw", mw(energy.chip())},
         {"dram_power_mw", mw(energy.dram)},
         {"energy_pj", energy::energy_figures_json(energy)},
         {"dram", dram::dram_figures_json(f.dram)},
         {"stalls",
          {{"input", f.pe_cycles.wait_input},
           {"output", f.pe_cycles.wait_output},
           {"idle", f.pe_cycles.idle}}},
         {"busy_pe_cycles", f.pe_cycles.busy},
         {"glb_bank_conflicts", f.glb_conflicts},
         {"actions", actions_json(f.actions)},
         {"offchip",
          {{"read_bytes", reads},
           {"write_bytes", writes},
           {"transfers", f.offchip.transfers},
           {"by_class", offchip_classes}}}};
  if (f.psg.weights > 0)
    j["psg"] = {{"predictor_macs", f.psg.predictor_macs},
                {"completion_macs", f.psg.completion_macs},
                {"weights", f.psg.weights},
                {"full_precision_weights", f.psg.full_precision_weights}};
  for (const FiguresExtension& e : extensions) e(f, j);
  return j;
}

json report_json(const RunResult& run, const arch::ArchConfig& config, const trace::Trace& trace,
                 const std::vector<FiguresExtension>& extensions) {
  const trace::Manifest& m = trace.manifest();
  PhaseFigures totals;
  std::map<std::string, PhaseFigures> phases;
  json layers = json::array();
  for (const LayerFigures& l : run.layers) {
    json lp = json::object();
    for (const char* phase : kReportPhases) {
      auto it = l.phases.find(phase);
      if (it == l.phases.end()) continue;
      lp[phase] = figures_json(it->second, config, extensions);
      phases[phase] += it->second;
      totals += it->second;
    }
    layers.push_back({{"name", l.name}, {"type", trace::to_string(l.type)}, {"phases", lp}});
  }
  json phases_json = json::object();
  for (const char* phase : kReportPhases)
    if (phases.count(phase)) phases_json[phase] = figures_json(phases[phase], config, extensions);
  return json{{"schema", "egsim-report"},
              {"version", 1},
              {"config", config.raw},
              {"trace",
               {{"path", fs::absolute(trace.dir()).lexically_normal().string()},
                {"network", m.network},
                {"mode", m.mode},
                {"pruning_rate", m.pruning_rate},
                {"iteration", m.iteration},
                {"batch", m.batch}}},
              {"clock_mhz", config.clock_mhz},
              {"totals", figures_json(totals, config, extensions)},
              {"phases", phases_json},
              {"layers", layers},
              {"blocks", run.blocks.is_null() ? json::object() : run.blocks}};
}

std::string report_csv(const json& report) {
  std::ostringstream out;
  out << "layer,type,phase,cycles,seconds,macs_issued,macs_skipped,utilization,gops,"
         "effective_gops,power_mw,chip_power_mw,dram_power_mw,energy_total_pj,energy_mac_pj,"
         "energy_spad_pj,energy_noc_pj,energy_glb_pj,energy_dram_pj,energy_ppu_pj,"
         "energy_leakage_pj,dram_read_bytes,dram_write_bytes,dram_bursts,"
         "dram_activates,dram_row_hits,dram_row_misses,"
         "stall_input,stall_output,stall_idle,offchip_read_bytes,offchip_write_bytes";
  const json& sample = report.at("totals").at("actions");
  for (auto it = sample.begin(); it != sample.end(); ++it) out << "," << it.key();
  out << "\n";
  auto row = [&](const std::string& layer, const std::string& type, const std::string& phase,
                 const json& f) {
    out << csv_field(layer) << "," << csv_field(type) << "," << csv_field(phase) << ","
        << f["cycles"] << "," << f["seconds"] << "," << f["macs_issued"] << "," << f["macs_skipped"]
        << "," << f["utilization"] << "," << f["gops"] << "," << f["effective_gops"] << ","
        << f["power_mw"] << "," << f["chip_power_mw"] << "," << f["dram_power_mw"];
    for (const char* c : {"total", "mac", "spad", "noc", "glb", "dram", "ppu", "leakage"})
      out << "," << f["energy_pj"][c];
    for (const char* c :
         {"read_bytes", "write_bytes", "bursts", "activates", "row_hits", "row_misses"})
      out << "," << f["dram"][c];
    out << "," << f["stalls"]["input"] << "," << f["stalls"]["output"] << "," << f["stalls"]["idle"]
        << "," << f["offchip"]["read_bytes"] << "," << f["offchip"]["write_bytes"];
    for (auto it = f["actions"].begin(); it != f["actions"].end(); ++it) out << "," << it.value();
    out << "\n";
  };
  for (const json& l : report.at("layers"))
    for (auto it = l.at("phases").begin(); it != l.at("phases").end(); ++it)
      row(l["name"].get<std::string>(), l["type"].get<std::string>(), it.key(), it.value());
  for (auto it = report.at("phases").begin(); it != report.at("phases").end(); ++it)
    row("TOTAL", "", it.key(), it.value());
  row("TOTAL", "", "all", report.at("totals"));
  return out.str();
}

std::vector<std::pair<std::string, std::string>> report_files(const json& report) {
  return {{"report.json", report.dump(1) + "\n"}, {"report.csv", report_csv(report)}};
}

}  // namespace eg::hw::array
