#pragma once
// Runs a sweep's unfinished points on this machine, up to `jobs` at a time, each as its own child
// process (`<point_command...> --point K`), so a crash or kill of one point cannot take the others'
// results with it and a restart finds every finished point's result.json.
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/sweep/sweep_config.hpp"
#include "tools/sweep/sweep_layout.hpp"

namespace eg::sweep {

struct LocalRunOptions {
  int jobs = 1;
  std::vector<std::string> point_command;  // argv prefix; "--point", K are appended
  std::ostream* progress = nullptr;        // nullptr: silent
  bool tty = false;
};

struct LocalRunResult {
  int skipped = 0, finished = 0, failed = 0;
  double wall_seconds = 0.0;
  nlohmann::json timing;  // what timing.json records (host timings; kept out of the summary)
};

LocalRunResult run_local(const Sweep& sweep, const SweepLayout& layout,
                         const LocalRunOptions& options);

}  // namespace eg::sweep
