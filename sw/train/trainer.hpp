#pragma once
// The training run behind egtrain: data, network, epochs of SGD, evaluation, per-layer stats,
// metrics (CSV + JSON), checkpoints and --resume, and the trace at --trace-iteration.
#include <ostream>

#include <nlohmann/json.hpp>

#include "sw/train/config.hpp"

namespace eg::train {

// Keys that say where/how a run reports, not what it computes; they may differ between an
// interrupted and a resumed run and are left out of metrics.json's config echo.
bool is_run_only_key(const std::string& key);

// Runs the configured training; progress lines go to `log`. Returns the metrics JSON that was
// written to --out (if any). Throws eg::Error on bad data or configuration.
nlohmann::json run_training(const TrainConfig& config, std::ostream& log);

}  // namespace eg::train
