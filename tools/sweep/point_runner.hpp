#pragma once
// Runs one point to completion in the calling process: train (or reuse the cached trace), simulate,
// record. The unit both the local scheduler (one child process per point) and a cluster job array
// (`egsim sweep --point K`) execute, so both produce the same files.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/sweep/sweep_config.hpp"
#include "tools/sweep/sweep_layout.hpp"

namespace eg::sweep {

enum class PointOutcome { AlreadyDone, Finished };

// The summary row of a finished point, or nothing when its result.json is absent or unusable (not
// JSON, another schema, another point's row): such a point is not done and is run again.
std::optional<nlohmann::json> finished_row(const std::filesystem::path& result_file,
                                           const std::string& id, int index);
bool point_done(const SweepLayout& layout, const Point& point);

// Runs `point` while holding its lock (another process running the same point makes this fail at
// once, naming it). Skips a point with a valid result.json; otherwise wipes the point's folder (a
// run that was interrupted leaves partial files there, a corrupt result.json is dropped) and redoes
// it. A cached trace is reused only if it opens as a valid trace; a broken one is trained again.
// Only folders the sweep made (marked as its own, or empty) are ever removed. Throws eg::Error
// naming the point and the failing step (and its log) if the trainer or simulator fails; no
// result.json is written then.
PointOutcome run_point(const Sweep& sweep, const Point& point, const SweepLayout& layout,
                       const Tools& tools);

// The sweep.json content: the config as written, the hardware configs' contents, every point.
nlohmann::json sweep_description(const Sweep& sweep);

}  // namespace eg::sweep
