#pragma once
// Runs one point to completion in the calling process: train (or reuse the cached trace), simulate,
// record. The unit both the local scheduler (one child process per point) and a cluster job array
// (`egsim sweep --point K`) execute, so both produce the same files.
#include "hw/sweep/sweep_config.hpp"
#include "hw/sweep/sweep_layout.hpp"

#include <nlohmann/json.hpp>

namespace eg::sweep {

enum class PointOutcome { AlreadyDone, Finished };

// Skips a point whose result.json exists; otherwise wipes the point's scratch directory (a run that
// was interrupted leaves partial files there) and redoes it. Throws eg::Error naming the point and
// the failing step (and its log) if the trainer or simulator fails; no result.json is written then.
PointOutcome run_point(const Sweep& sweep, const Point& point, const SweepLayout& layout,
                       const Tools& tools);

// The sweep.json content: the config as written, the hardware configs' contents, every point.
nlohmann::json sweep_description(const Sweep& sweep);

}  // namespace eg::sweep
