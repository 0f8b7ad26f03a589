#include "tools/sweep/point_runner.hpp"

#include <fstream>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"
#include "base/owned_dir.hpp"
#include "tools/sweep/json_file.hpp"
#include "tools/sweep/point_figures.hpp"
#include "tools/sweep/subprocess.hpp"
#include "workloads/trace.hpp"

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

// Makes `dir` an empty folder marked as the sweep's. An existing one is removed first, but only if
// the sweep provably made it (marked as the sweep's, or empty); anything else is refused by name.
void fresh_folder(const fs::path& dir) {
  std::error_code ec;
  const fs::file_type type = fs::symlink_status(dir, ec).type();
  if (type == fs::file_type::symlink)
    throw Error(dir.string() +
                ": is a symbolic link, not a folder the sweep made; remove it first");
  if (type != fs::file_type::not_found) {
    (void)OwnedDir::claim_whole(dir, kSweepOwner);  // throws unless the sweep made it
    fs::remove_all(dir);
  }
  (void)OwnedDir::claim_whole(dir, kSweepOwner);
}

// A cached training run is reused only if it finished (complete.json for this key) and its trace
// opens: manifest valid, every tensor present with the right header and size.
bool usable_trace(const fs::path& entry, const std::string& trace_key) {
  try {
    const json done = load_json_file(entry / "complete.json");
    if (!done.is_object() || done.value("trace_key", json()) != trace_key) return false;
    (void)trace::Trace::open(entry / "trace");
    return true;
  } catch (const std::exception&) {  // eg::Error, or a file system or JSON error on the way
    return false;
  }
}

// Trains once per trace key. The lock makes concurrent points that share a trace (same training,
// different hardware config) wait for one training run instead of racing on the same directory.
fs::path ensure_trace(const Sweep& sweep, const Point& point, const SweepLayout& layout,
                      const Tools& tools) {
  const fs::path entry = layout.trace_entry(point);
  FileLock lock(layout.trace_cache / (point.trace_key + ".lock"));
  if (usable_trace(entry, point.trace_key)) return entry;
  fresh_folder(entry);  // interrupted or broken: train again from nothing
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
  try {
    (void)trace::Trace::open(entry / "trace");
  } catch (const Error& e) {
    throw Error("point " + point.id + ": egtrain wrote no usable trace: " + e.what());
  }
  write_file_atomic(entry / "complete.json",
                    json_text(json{{"trace_key", point.trace_key}, {"egtrain_args", args}}));
  return entry;
}

}  // namespace

json sweep_description(const Sweep& sweep) {
  json hw_configs = json::object();
  json points = json::array();
  for (const auto& p : sweep.points) {
    if (!hw_configs.contains(p.hw_config))
      hw_configs[p.hw_config] = read_json_file(p.hw_config_path);
    // A derived copy is a configuration of its own: shown as run.
    const std::string derived =
        p.hw_config + " with features.backward_schedule \"" + p.backward_schedule + "\"";
    if (p.hw_config_derived && !hw_configs.contains(derived))
      hw_configs[derived] = derived_hw_config(p);
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

std::optional<json> finished_row(const fs::path& result_file, const std::string& id, int index) {
  std::error_code ec;
  if (fs::symlink_status(result_file, ec).type() == fs::file_type::not_found) return std::nullopt;
  try {
    const json doc = load_json_file(result_file);
    if (!doc.is_object() || doc.value("schema", json()) != "egsweep-point" ||
        doc.value("version", json()) != 1 || !doc.contains("row") || !doc["row"].is_object())
      return std::nullopt;
    const json& row = doc["row"];
    if (row.value("id", json()) != id || row.value("index", json()) != index) return std::nullopt;
    return row;
  } catch (const Error&) {
    return std::nullopt;
  }
}

bool point_done(const SweepLayout& layout, const Point& point) {
  return finished_row(layout.result_file(point), point.id, point.index).has_value();
}

PointOutcome run_point(const Sweep& sweep, const Point& point, const SweepLayout& layout,
                       const Tools& tools) {
  const FileLock busy(layout.point_lock(point),
                      "point " + std::to_string(point.index) + " (" + point.id +
                          ") is being run by another process (it holds " +
                          layout.point_lock(point).string() + "); wait for it to finish");
  if (point_done(layout, point)) return PointOutcome::AlreadyDone;
  const fs::path dir = layout.point_dir(point);
  fresh_folder(dir);  // partial files of an interrupted run, or a corrupt result.json

  const fs::path entry = ensure_trace(sweep, point, layout, tools);

  // A backward_schedules value the hardware config does not already have: its edited copy, in
  // the point's own folder (written before the simulation, removed with the folder).
  if (point.hw_config_derived)
    write_file_atomic(simulated_hw_config(point, dir), json_text(derived_hw_config(point)));
  const fs::path sim_out = dir / "sim";
  const fs::path sim_log = dir / "sim.log";
  std::vector<std::string> sim_argv{tools.egsim.string()};
  for (auto& arg : simulator_args(point, dir, entry / "trace", sim_out))
    sim_argv.push_back(std::move(arg));
  const ExitStatus status = run_logged(sim_argv, sim_log);
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
  add_run_figures(figures, read_run_iterations(entry / "train"));
  for (const auto& item : figures.items()) row[item.key()] = item.value();
  // Relative to the sweep directory, so results stay valid when the directory moves.
  row["report"] = fs::relative(report_file, layout.out).generic_string();
  write_file_atomic(layout.result_file(point),
                    json_text(json{{"schema", "egsweep-point"}, {"version", 1}, {"row", row}}));
  return PointOutcome::Finished;
}

}  // namespace eg::sweep
