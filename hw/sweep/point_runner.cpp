#include "hw/sweep/point_runner.hpp"

#include <fstream>

#include "hw/sweep/json_file.hpp"
#include "hw/sweep/point_figures.hpp"
#include "hw/sweep/subprocess.hpp"
#include "base/error.hpp"

namespace eg::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The failing program's last line (its one-line error), so the sweep's message says why.
std::string last_line_of(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last.empty() ? "" : ": " + last;
}

// Trains once per trace key. The lock makes concurrent points that share a trace (same training,
// different hardware config) wait for one training run instead of racing on the same directory.
fs::path ensure_trace(const Sweep& sweep, const Point& point, const SweepLayout& layout,
                      const Tools& tools) {
  const fs::path entry = layout.trace_entry(point);
  FileLock lock(layout.trace_cache / (point.trace_key + ".lock"));
  if (fs::exists(entry / "complete.json")) return entry;
  fs::remove_all(entry);  // an interrupted training run: start it again from nothing
  fs::create_directories(entry);
  std::vector<std::string> argv{tools.egtrain.string()};
  const std::vector<std::string> args = sweep.trainer_args(point);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(),
              {"--out", (entry / "train").string(), "--trace-out", (entry / "trace").string()});
  const fs::path log = entry / "train.log";
  const ExitStatus status = run_logged(argv, log);
  if (!status.ok())
    throw Error("point " + point.id + ": egtrain failed (" + status.describe() + ")" +
                last_line_of(log) + " (log " + log.string() + ")");
  if (!fs::exists(entry / "trace" / "manifest.json"))
    throw Error("point " + point.id + ": egtrain wrote no trace manifest in " +
                (entry / "trace").string());
  write_json_atomic(entry / "complete.json",
                    json{{"trace_key", point.trace_key}, {"egtrain_args", args}});
  return entry;
}

}  // namespace

json sweep_description(const Sweep& sweep) {
  json hw_configs = json::object();
  json points = json::array();
  for (const auto& p : sweep.points) {
    if (!hw_configs.contains(p.hw_config))
      hw_configs[p.hw_config] = read_json_file(p.hw_config_path);
    json entry = p.params();
    entry["index"] = p.index;
    entry["id"] = p.id;
    points.push_back(entry);
  }
  return json{{"schema", "egsweep"},      {"version", 1},
              {"name", sweep.name},       {"description", sweep.description},
              {"config", sweep.raw},      {"config_path", sweep.source.string()},
              {"hw_configs", hw_configs}, {"points", points}};
}

PointOutcome run_point(const Sweep& sweep, const Point& point, const SweepLayout& layout,
                       const Tools& tools) {
  if (fs::exists(layout.result_file(point))) return PointOutcome::AlreadyDone;
  const fs::path dir = layout.point_dir(point);
  fs::remove_all(dir);
  fs::create_directories(dir);

  const fs::path entry = ensure_trace(sweep, point, layout, tools);

  const fs::path sim_out = dir / "sim";
  const fs::path sim_log = dir / "sim.log";
  const ExitStatus status =
      run_logged({tools.egsim.string(), "run", "--config", point.hw_config_path.string(), "--trace",
                  (entry / "trace").string(), "--out", sim_out.string()},
                 sim_log);
  if (!status.ok())
    throw Error("point " + point.id + ": egsim run failed (" + status.describe() + ")" +
                last_line_of(sim_log) + " (log " + sim_log.string() + ")");
  const fs::path report_file = sim_out / "report.json";
  if (!fs::exists(report_file))
    throw Error("point " + point.id + ": egsim run wrote no " + report_file.string());
  const json report = read_json_file(report_file);

  json row = point.params();
  row["index"] = point.index;
  row["id"] = point.id;
  std::string accuracy_source;
  const auto accuracy = read_test_accuracy(entry / "train", &accuracy_source);
  row["test_accuracy"] = accuracy ? json(*accuracy) : json(nullptr);
  json figures = figures_from_report(report);
  if (!accuracy) figures["missing"].push_back("test_accuracy");
  for (const auto& item : figures.items()) row[item.key()] = item.value();
  // Relative to the sweep directory, so results stay valid when the directory moves.
  row["report"] = fs::relative(report_file, layout.out).generic_string();
  write_json_atomic(layout.result_file(point),
                    json{{"schema", "egsweep-point"}, {"version", 1}, {"row", row}});
  return PointOutcome::Finished;
}

}  // namespace eg::sweep
