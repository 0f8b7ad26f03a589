#include "tools/sweep/sweep_command.hpp"

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include <boost/program_options.hpp>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/owned_dir.hpp"
#include "models/arch/arch_config.hpp"
#include "tools/sweep/cluster_emit.hpp"
#include "tools/sweep/json_file.hpp"
#include "tools/sweep/local_scheduler.hpp"
#include "tools/sweep/point_runner.hpp"
#include "tools/sweep/subprocess.hpp"
#include "tools/sweep/summary.hpp"

namespace eg::sweep {

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {

fs::path self_executable() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("/proc/self/exe: cannot resolve the running executable: " + ec.message());
  return self;
}

// Flag, else environment variable, else the program next to the running executable.
fs::path resolve_tool(const std::string& flag_value, const char* env, const std::string& name,
                      const fs::path& self) {
  std::string where = "--" + name;
  fs::path path = flag_value;
  if (path.empty() && std::getenv(env) && *std::getenv(env)) {
    path = std::getenv(env);
    where = std::string("$") + env;
  }
  if (path.empty()) {
    path = self.parent_path() / name;
    where = "default " + name + " next to " + self.string();
  }
  path = fs::absolute(path).lexically_normal();
  // A folder passes access(X_OK) too; only a regular file can be run.
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || ::access(path.c_str(), X_OK) != 0)
    throw Error(path.string() + ": " + name + " program (" + where + ") is not an executable file");
  return path;
}

// The one process that runs, emits or merges a sweep holds this until it exits (the kernel drops
// it if the process dies), so a second one on the same folder fails at once instead of wiping the
// first one's points.
FileLock lock_sweep(const SweepLayout& layout) {
  return FileLock(
      layout.lock_file(),
      layout.out.string() + ": another egsim sweep is running on this folder (it holds " +
          layout.lock_file().string() + "); wait for it to finish or choose another --out");
}

int run(int argc, char** argv) {
  std::string config, out, emit, merge, egtrain, egsim, trace_cache;
  int jobs = 1, point = -1;
  po::options_description options("egsim sweep options");
  options.add_options()("help,h", "show this help")("config", po::value(&config),
                                                    "sweep config (configs/sweeps/*.json)")(
      "out", po::value(&out), "sweep output directory (shared by every job)")(
      "jobs,j", po::value(&jobs)->default_value(1), "points run at once on this machine")(
      "point", po::value(&point), "run only point K (index in sweep.json) and exit")(
      "emit", po::value(&emit), "write job scripts instead of running: slurm | parallel")(
      "merge", po::value(&merge), "build summary and report of the sweep in DIR from its points")(
      "egtrain", po::value(&egtrain),
      "trainer program (default $EGSIM_EGTRAIN, else next to egsim)")(
      "egsim", po::value(&egsim), "simulator program (default $EGSIM_EGSIM, else this program)")(
      "trace-cache", po::value(&trace_cache), "where traces are cached (default OUT/traces)");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << "usage: egsim sweep --config C --out DIR [--jobs N | --point K | --emit "
                 "slurm|parallel]\n"
                 "       egsim sweep --merge DIR\n"
              << options;
    return 0;
  }

  if (!merge.empty()) {
    if (vm.count("config") || vm.count("point") || vm.count("emit"))
      throw Error("--merge: takes only the sweep directory (no --config, --point or --emit)");
    SweepLayout layout;
    layout.out = fs::absolute(merge).lexically_normal();
    if (!fs::exists(layout.sweep_file()))
      throw Error(layout.sweep_file().string() + ": missing (not a sweep output directory?)");
    // A folder the sweep did not make is refused, even if it holds a sweep.json.
    (void)OwnedDir::claim_whole(layout.out, kSweepOwner);
    const FileLock lock = lock_sweep(layout);
    write_summary(layout.out);
    const auto summary = read_json_file(layout.out / "summary.json");
    std::cout << "sweep: merged " << summary["points_done"] << " of " << summary["points_total"]
              << " points into " << (fs::path(merge) / "summary.csv").string() << " and "
              << (fs::path(merge) / "report.html").string() << "\n";
    return 0;
  }
  if (config.empty()) throw Error("--config: missing (the sweep config file)");
  if (out.empty()) throw Error("--out: missing (the sweep output directory)");
  if (jobs < 1) throw Error("--jobs: must be >= 1");
  if (!emit.empty() && emit != "slurm" && emit != "parallel")
    throw Error("--emit: unknown target '" + emit + "' (expected slurm or parallel)");

  const Sweep sweep = load_sweep(config);
  SweepLayout layout;
  layout.out = fs::absolute(out).lexically_normal();
  layout.trace_cache =
      trace_cache.empty() ? layout.out / "traces" : fs::absolute(trace_cache).lexically_normal();
  const fs::path self = self_executable();
  Tools tools;
  tools.egtrain = resolve_tool(egtrain, "EGSIM_EGTRAIN", "egtrain", self);
  tools.egsim = resolve_tool(egsim, "EGSIM_EGSIM", "egsim", self);
  // Every argument is checked before the first folder is claimed, so a bad one leaves nothing.
  const bool one_point = point >= 0 || vm.count("point");
  if (one_point && (point < 0 || point >= static_cast<int>(sweep.points.size())))
    throw Error("--point: " + std::to_string(point) + " is not a point of " + config + " (0.." +
                std::to_string(sweep.points.size() - 1) + ")");
  // A point whose hardware config is broken would fail only after its trace was trained; every
  // config is loaded (with the DRAM and energy files it names) here instead.
  std::set<fs::path> hw_configs;
  for (const Point& p : sweep.points) hw_configs.insert(p.hw_config_path);
  for (const fs::path& hw : hw_configs) (void)arch::load_arch_config(hw);
  for (const fs::path& dir : {layout.out, layout.trace_cache}) {
    std::error_code ec;
    const fs::file_type type = fs::status(dir, ec).type();
    if (type != fs::file_type::not_found && type != fs::file_type::directory)
      throw Error(dir.string() + ": exists and is not a directory");
  }
  // Before any work: the output folder and the trace cache must be new, empty or a sweep's own
  // (so a user's report.html in some other folder is never overwritten) and writable.
  (void)OwnedDir::claim_whole(layout.out, kSweepOwner);
  (void)OwnedDir::claim_whole(layout.trace_cache, kSweepOwner);

  if (one_point) {
    // Cluster tasks may start without a local run having written it; identical content, atomic.
    if (!fs::exists(layout.sweep_file()))
      write_file_atomic(layout.sweep_file(), json_text(sweep_description(sweep)));
    const Point& p = sweep.points[point];
    const PointOutcome outcome = run_point(sweep, p, layout, tools);
    std::cout << "sweep: point " << point << " " << p.id
              << (outcome == PointOutcome::AlreadyDone ? " already done\n" : " done\n");
    return 0;
  }

  const FileLock lock = lock_sweep(layout);
  write_file_atomic(layout.sweep_file(), json_text(sweep_description(sweep)));
  const std::vector<std::string> point_command{self.string(),   "sweep",
                                               "--config",      sweep.source.string(),
                                               "--out",         layout.out.string(),
                                               "--egtrain",     tools.egtrain.string(),
                                               "--egsim",       tools.egsim.string(),
                                               "--trace-cache", layout.trace_cache.string()};
  if (emit == "slurm") {
    const fs::path script = emit_slurm(sweep, layout, point_command);
    std::cout << "sweep: wrote " << script.string() << "\n  submit with: sbatch " << script.string()
              << "\n  afterwards:  " << self.string() << " sweep --merge " << layout.out.string()
              << "\n";
    return 0;
  }
  if (emit == "parallel") {
    const fs::path jobs_file = emit_parallel(sweep, layout, point_command);
    std::cout << "sweep: wrote " << jobs_file.string() << "\n  run with:   parallel --jobs N < "
              << jobs_file.string() << "\n  afterwards: " << self.string() << " sweep --merge "
              << layout.out.string() << "\n";
    return 0;
  }

  LocalRunOptions local;
  local.jobs = jobs;
  local.point_command = point_command;
  local.progress = &std::cout;
  local.tty = ::isatty(STDOUT_FILENO);
  std::cout << "sweep: " << sweep.name << ", " << sweep.points.size() << " points, " << jobs
            << " at a time, into " << layout.out.string() << "\n";
  const LocalRunResult result = run_local(sweep, layout, local);
  write_file_atomic(layout.out / "timing.json", json_text(result.timing));
  write_summary(layout.out);
  std::cout << "sweep: " << result.finished << " run, " << result.skipped
            << " skipped (done before), " << result.failed << " failed; wall time "
            << result.wall_seconds << " s\n"
            << "sweep: summary " << (layout.out / "summary.csv").string() << ", report "
            << (layout.out / "report.html").string() << "\n";
  return result.failed == 0 ? 0 : 1;
}

}  // namespace

int sweep_command(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Error& e) {
    std::cerr << "egsim sweep: " << e.what() << "\n";
  } catch (const po::error& e) {
    std::cerr << "egsim sweep: " << e.what() << "\n";
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "egsim sweep: " << e.what() << "\n";
  } catch (const nlohmann::json::exception& e) {
    std::cerr << "egsim sweep: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace eg::sweep
