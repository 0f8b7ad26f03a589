#pragma once
// Validation of a checkpoint's JSON header before --resume trusts it: every field is range-checked
// against this run's network, data set and config, so a damaged or hand-edited checkpoint is one
// clear error instead of an out-of-range index, a wrapped counter or a metrics row that cannot be
// written. The loop position (epoch, batch in epoch, iteration) is the whole random-generator
// state (all draws are counter-based), so checking it checks the RNG state too.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eg::train {

struct CheckpointExpectation {
  nlohmann::json config;            // the config echo this run writes (keys and values)
  int64_t epochs = 0;               // planned epochs
  int64_t batches_per_epoch = 0;    // of this data set and batch size
  int64_t batch = 0;                // samples per mini-batch
  std::vector<std::string> layers;  // the network's weighted layers, in order
  int64_t histogram_bins = 0;       // counts per layer histogram
  // Mini-batch dropping of this run (smd.hpp): which iterations ran, and so the samples seen and
  // each epoch's executed iterations, follow from them.
  uint64_t seed = 0;
  double smd_drop_prob = 0.0;
};

// Throws eg::Error "<file>: <JSON pointer>: <problem>" (or, for a config that differs,
// "<file>: key 'K' is X in the checkpoint but Y in this run").
void check_checkpoint_header(const nlohmann::json& header, const std::string& file,
                             const CheckpointExpectation& expected);

}  // namespace eg::train
