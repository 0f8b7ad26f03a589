// egsim run --config C --trace DIR --out DIR [--no-check] [--layers a,b] [--html]
//           [--step-every-cycle]
#include <chrono>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "base/error.hpp"
#include "base/new_dirs.hpp"
#include "base/owned_dir.hpp"
#include "hw/app/parse_options.hpp"
#include "hw/app/subcommand.hpp"
#include "hw/array/accelerator.hpp"
#include "hw/array/report_writer.hpp"
#include "hw/render/run_report.hpp"
#include "models/arch/arch_config.hpp"

namespace po = boost::program_options;

namespace eg::app {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

int run(int argc, char** argv) {
  po::options_description opts("egsim run: simulate every phase of a training trace");
  std::string config, trace_dir, out_dir, layers;
  opts.add_options()("help,h", "this help")("config", po::value(&config)->required(),
                                            "hardware config JSON (configs/hw/*.json)")(
      "trace", po::value(&trace_dir)->required(), "trace directory (manifest.json + .npy)")(
      "out", po::value(&out_dir)->required(),
      "directory for report.json and report.csv (created if absent; only files egsim run wrote "
      "there are ever replaced)")("no-check", "skip comparing computed y/dx/dw with the trace")(
      "layers", po::value(&layers), "comma-separated layer names to simulate (default: all)")(
      "html", "also write report.html (tables, charts and the config, one self-contained page)")(
      "step-every-cycle",
      "simulate every array cycle one by one instead of jumping over cycles in which no block "
      "of the array changes state (slower; the report is the same: a check that the "
      "fast-forward is exact)");
  po::variables_map vm;
  if (!parse_options(argc, argv, opts, vm)) return 0;

  const arch::ArchConfig cfg = arch::load_arch_config(config);
  const trace::Trace trace = trace::Trace::open(trace_dir);
  // The output folder is claimed before the simulation: a folder that cannot be written, or that
  // holds a report this command did not write, fails now, and a failed run removes the folders it
  // created.
  const bool html = vm.count("html") > 0;
  std::vector<std::string> outputs{"report.json", "report.csv"};
  if (html) outputs.push_back("report.html");
  NewDirs created(out_dir);
  OwnedDir out = OwnedDir::claim(out_dir, "egsim run", outputs);
  hw::array::RunOptions options;
  options.check = !vm.count("no-check");
  options.layers = split_commas(layers);
  options.step_every_cycle = vm.count("step-every-cycle") > 0;
  const auto t0 = std::chrono::steady_clock::now();
  const hw::array::RunResult result = hw::array::simulate(cfg, trace, options);
  const double host_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const nlohmann::json report = hw::array::report_json(result, cfg, trace);
  auto files = hw::array::report_files(report);
  if (html)
    files.emplace_back("report.html", render::run_html(report, out.path(), nullptr,
                                                       {"report.json", "report.csv"}));
  out.write_all(files);  // all or nothing: no *.tmp file or half a report is left on failure
  if (!html) out.remove_own("report.html");  // an earlier run's page would describe another report
  created.keep();

  const nlohmann::json& tot = report["totals"];
  std::cout << "egsim run: " << trace.manifest().network << " (" << trace.manifest().mode << ") on "
            << cfg.name << ": " << tot["cycles"] << " cycles, " << tot["macs_issued"]
            << " MACs issued, " << tot["macs_skipped"] << " skipped, "
            << "utilization " << tot["utilization"].get<double>()
            << (options.check ? ", functional check passed" : ", functional check skipped") << "\n";
  if (options.check && result.check.tensors > 0)
    std::cout << "functional check: " << result.check.tensors
              << " tensors, worst max|sim - trace| / max|trace| = "
              << result.check.worst_relative_error << " (layer '" << result.check.worst_layer
              << "' " << result.check.worst_tensor << "), check.rtol " << cfg.check.rtol << "\n";
  std::cout << "simulation speed: " << result.ticked_cycles << " cycles ticked in " << host_s
            << " s = " << (host_s > 0 ? static_cast<double>(result.ticked_cycles) / host_s : 0.0)
            << " cycles/s (" << tot["cycles"].get<uint64_t>() << " simulated in total)\n";
  std::cout << "wrote " << (std::filesystem::path(out_dir) / "report.json").string() << " and "
            << "report.csv" << (html ? " and report.html" : "") << "\n";
  return 0;
}

const RegisterSubcommand registered{
    {"run", "simulate a trace on a hardware config and write report.json/report.csv", run}};

}  // namespace
}  // namespace eg::app
