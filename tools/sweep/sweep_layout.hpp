#pragma once
// Where a sweep keeps things under its output directory (marked as the sweep's by .egsim-owned):
// - sweep.json: the resolved grid (points, ids, configs used); written before any point
// - sweep.lock: held while a sweep runs, emits or merges here
// - points/<id>/result.json: a finished point (written atomically, last); a valid one = done
// - locks/<id>.lock: held while that point runs
// - points/<id>/sim/: the simulator's report of that point
// - logs/<id>.log: what the point's process printed
// - traces/<trace key>/ (or under --trace-cache): cached training run + trace, complete.json = done
// - summary.json, summary.csv, report.html, plots/*.svg, timing.json
#include <filesystem>

#include "tools/sweep/sweep_config.hpp"

namespace eg::sweep {

// The owner recorded in the output folder's (and trace cache's) .egsim-owned marker: the sweep
// may write and remove anything inside a folder so marked, and nothing in any other.
inline constexpr const char* kSweepOwner = "egsim sweep";

struct SweepLayout {
  std::filesystem::path out;
  std::filesystem::path trace_cache;  // defaults to out/traces

  std::filesystem::path sweep_file() const { return out / "sweep.json"; }
  std::filesystem::path point_dir(const Point& p) const { return out / "points" / p.id; }
  std::filesystem::path result_file(const Point& p) const { return point_dir(p) / "result.json"; }
  std::filesystem::path log_file(const Point& p) const { return out / "logs" / (p.id + ".log"); }
  std::filesystem::path trace_entry(const Point& p) const { return trace_cache / p.trace_key; }
  // Held by the process that runs, emits or merges the sweep: a second one fails at once.
  std::filesystem::path lock_file() const { return out / "sweep.lock"; }
  // Held by the process running that point (a local job or a cluster task).
  std::filesystem::path point_lock(const Point& p) const {
    return out / "locks" / (p.id + ".lock");
  }
};

// The two programs a point runs.
struct Tools {
  std::filesystem::path egtrain;
  std::filesystem::path egsim;
};

}  // namespace eg::sweep
