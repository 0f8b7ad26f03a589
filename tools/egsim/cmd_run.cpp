// egsim run --config C --trace DIR --out DIR [--no-check] [--layers a,b] [--html]
//           [--step-every-cycle]
//           [--timeline FILE [--timeline-window-cycles N]] [--progress | --no-progress]
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include <boost/program_options.hpp>

#include "base/error.hpp"
#include "base/new_dirs.hpp"
#include "base/owned_dir.hpp"
#include "hw/array/accelerator.hpp"
#include "hw/array/report_writer.hpp"
#include "hw/timeline/timeline_recorder.hpp"
#include "models/arch/arch_config.hpp"
#include "tools/egsim/parse_options.hpp"
#include "tools/egsim/subcommand.hpp"
#include "tools/egsim/terminal_progress.hpp"
#include "tools/render/run_report.hpp"

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

namespace fs = std::filesystem;
constexpr const char* kOwner = "egsim run";

// Claims the --timeline file before the simulation, as `egsim compare --out` does: it names a file
// in an existing folder, is not one of the reports, and is absent or a file egsim run wrote there
// earlier (recorded in the folder's ownership marker), so a file of the user's is never replaced.
fs::path claim_timeline(const fs::path& file, const fs::path& out_dir,
                        const std::vector<std::string>& reports) {
  if (file.filename().empty() || file.filename() == "." || file.filename() == "..")
    throw Error(file.string() + ": --timeline must name a file");
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(file.string() + ": --timeline: folder " + dir.string() + " does not exist");
  for (const std::string& r : reports)
    if (fs::weakly_canonical(file, ec) == fs::weakly_canonical(out_dir / r, ec))
      throw Error(file.string() + ": --timeline would overwrite the run's " + r +
                  "; name another file");
  OwnedDir::claim(dir, kOwner, {file.filename().string()});
  return dir;
}

uint64_t parse_window(const std::string& text) {
  const bool digits = !text.empty() && text.size() <= 18 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  const uint64_t n = digits ? std::stoull(text) : 0;
  if (n == 0)
    throw Error("--timeline-window-cycles: '" + text + "' must be a whole number of cycles >= 1");
  return n;
}

int run(int argc, char** argv) {
  po::options_description opts("egsim run: simulate every phase of a training trace");
  std::string config, trace_dir, out_dir, layers, timeline_file, window_text;
  opts.add_options()("help,h", "this help")("config", po::value(&config)->required(),
                                            "hardware config JSON (configs/hw/*.json)")(
      "trace", po::value(&trace_dir)->required(), "trace directory (manifest.json + .npy)")(
      "out", po::value(&out_dir)->required(),
      "directory for report.json and report.csv (created if absent; only files egsim run wrote "
      "there are ever replaced)")("no-check", "skip comparing computed y/dx/dw with the trace")(
      "layers", po::value(&layers), "comma-separated layer names to simulate (default: all)")(
      "html", "also write report.html (tables, charts and the config, one self-contained page)")(
      "timeline", po::value(&timeline_file)->value_name("FILE"),
      "also write a Chrome trace-event JSON of the run to FILE (open it in ui.perfetto.dev or "
      "chrome://tracing): layer and phase spans, per-cluster compute and DRAM-wait intervals, DMA "
      "transfers by data class, DRAM bandwidth; time in microseconds of simulated time, cycles in "
      "each event's args. The folder must exist; a file egsim run did not write is never "
      "replaced. Follows --layers")(
      "timeline-window-cycles", po::value(&window_text)->value_name("N"),
      ("width of one DRAM bandwidth sample of the timeline, in accelerator cycles (default " +
       std::to_string(hw::kDefaultTimelineWindowCycles) + ")")
          .c_str())("progress",
                    "show progress on stderr even when it is not a terminal (layer k/n, phase, "
                    "simulated cycles, host Mcycles/s, ETA from the dense MACs done)")(
      "no-progress", "never show progress (by default it shows when stderr is a terminal)")(
      "step-every-cycle",
      "simulate every array cycle one by one instead of jumping over cycles in which no block "
      "of the array changes state (slower; the report is the same: a check that the "
      "fast-forward is exact)");
  po::variables_map vm;
  if (!parse_options(argc, argv, opts, vm)) return 0;
  if (vm.count("progress") && vm.count("no-progress"))
    throw Error("--progress and --no-progress: choose one");
  if (vm.count("timeline-window-cycles") && !vm.count("timeline"))
    throw Error("--timeline-window-cycles: only applies with --timeline FILE");
  const uint64_t window_cycles = vm.count("timeline-window-cycles")
                                     ? parse_window(window_text)
                                     : hw::kDefaultTimelineWindowCycles;

  const arch::ArchConfig cfg = arch::load_arch_config(config);
  const trace::Trace trace = trace::Trace::open(trace_dir);
  // The output folder is claimed before the simulation: a folder that cannot be written, or that
  // holds a report this command did not write, fails now, and a failed run removes the folders it
  // created.
  const bool html = vm.count("html") > 0;
  std::vector<std::string> outputs{"report.json", "report.csv"};
  if (html) outputs.push_back("report.html");
  NewDirs created(out_dir);
  OwnedDir out = OwnedDir::claim(out_dir, kOwner, outputs);
  std::optional<fs::path> timeline_dir;
  std::unique_ptr<hw::TimelineRecorder> timeline;
  if (vm.count("timeline")) {
    timeline_dir =
        claim_timeline(timeline_file, out_dir, {"report.json", "report.csv", "report.html"});
    timeline = std::make_unique<hw::TimelineRecorder>(cfg.clock_mhz, window_cycles);
  }
  const bool progress_on =
      vm.count("progress") || (!vm.count("no-progress") && ::isatty(STDERR_FILENO) == 1);
  std::unique_ptr<TerminalProgress> progress;
  if (progress_on) progress = std::make_unique<TerminalProgress>(std::cerr);
  hw::array::RunOptions options;
  options.check = !vm.count("no-check");
  options.layers = split_commas(layers);
  options.step_every_cycle = vm.count("step-every-cycle") > 0;
  options.timeline = timeline.get();
  options.progress = progress.get();
  const auto t0 = std::chrono::steady_clock::now();
  const hw::array::RunResult result = hw::array::simulate(cfg, trace, options);
  const double host_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  progress.reset();  // its line is gone before the summary is printed
  const nlohmann::json report = hw::array::report_json(result, cfg, trace);
  auto files = hw::array::report_files(report);
  if (html)
    files.emplace_back("report.html", render::run_html(report, out.path(), nullptr,
                                                       {"report.json", "report.csv"}));
  out.write_all(files);  // all or nothing: no *.tmp file or half a report is left on failure
  if (!html) out.remove_own("report.html");  // an earlier run's page would describe another report
  if (timeline) {
    // Claimed again now: the folder's ownership marker may have changed with the reports above.
    const std::string name = fs::path(timeline_file).filename().string();
    OwnedDir::claim(*timeline_dir, kOwner, {name})
        .write(name, timeline->json({{"generator", "egsim run"},
                                     {"config", cfg.name},
                                     {"network", trace.manifest().network},
                                     {"mode", trace.manifest().mode}}));
  }
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
  if (options.check && result.check.update_tensors > 0)
    std::cout << "weight update check: " << result.check.update_tensors
              << " tensors, worst max|sim - trace| / max|trace| = "
              << result.check.worst_update_error << " (layer '" << result.check.worst_update_layer
              << "' " << result.check.worst_update_tensor << ", allowed "
              << result.check.worst_update_allowed
              << " = check.rtol + its storage format's rounding)\n";
  std::cout << "simulation speed: " << result.ticked_cycles << " cycles ticked in " << host_s
            << " s = " << (host_s > 0 ? static_cast<double>(result.ticked_cycles) / host_s : 0.0)
            << " cycles/s (" << tot["cycles"].get<uint64_t>() << " simulated in total)\n";
  std::cout << "wrote " << (std::filesystem::path(out_dir) / "report.json").string() << " and "
            << "report.csv" << (html ? " and report.html" : "") << "\n";
  if (timeline)
    std::cout << "wrote timeline " << timeline_file << " (" << timeline->event_count()
              << " events; open it in ui.perfetto.dev or chrome://tracing)\n";
  return 0;
}

const RegisterSubcommand registered{
    {"run", "simulate a trace on a hardware config and write report.json/report.csv", run}};

}  // namespace
}  // namespace eg::app
