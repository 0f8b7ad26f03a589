#pragma once
// Where a sweep keeps things under its output directory:
//   sweep.json                 the resolved grid (points, ids, configs used); written before any
//   point points/<id>/result.json    a finished point (written atomically, last); its presence =
//   done points/<id>/sim/           the simulator's report of that point logs/<id>.log what the
//   point's process printed traces/<trace key>/        cached training run + trace (or under
//   --trace-cache), complete.json = done summary.json, summary.csv, report.html, plots/*.svg,
//   timing.json
#include <filesystem>

#include "hw/sweep/sweep_config.hpp"

namespace eg::sweep {

struct SweepLayout {
  std::filesystem::path out;
  std::filesystem::path trace_cache;  // defaults to out/traces

  std::filesystem::path sweep_file() const { return out / "sweep.json"; }
  std::filesystem::path point_dir(const Point& p) const { return out / "points" / p.id; }
  std::filesystem::path result_file(const Point& p) const { return point_dir(p) / "result.json"; }
  std::filesystem::path log_file(const Point& p) const { return out / "logs" / (p.id + ".log"); }
  std::filesystem::path trace_entry(const Point& p) const { return trace_cache / p.trace_key; }
};

// The two programs a point runs.
struct Tools {
  std::filesystem::path egtrain;
  std::filesystem::path egsim;
};

}  // namespace eg::sweep
