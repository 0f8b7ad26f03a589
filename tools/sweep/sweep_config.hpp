#pragma once
// A sweep configuration (configs/sweeps/*.json), parsed strictly, and its expansion into points.
//
// {
//   "name": "pruning",                       // names the sweep in reports
//   "description": "...",                    // optional, shown in the HTML report
//   "training": { "config": "../train/x.json", "epochs": 1, "iterations": 200, ... },
//   "grids": [ { "label": "...", "networks": [...], "datasets": [...], "modes": [...],
//                "pruning_rates": [...], "hw_configs": ["../hw/efficientgrad.json"], "seeds": [1],
//                "smd_drop_probs": [0, 0.5] }      // optional, default [0]
//                ],
//   "slurm": { "partition": "...", "time": "02:00:00", "cpus_per_task": 2, "mem": "4G" }   //
//   optional
// }
//
// Relative paths are relative to the directory of the sweep config file. The points are the union
// of every grid's cartesian product, in order: grids as listed, then networks, datasets, modes,
// seeds, pruning rates, mini-batch drop probabilities, hardware configs (the last varies fastest).
// A point with drop probability 0 has the identity (id, trace key, trainer flags) it had before
// the axis existed, so earlier sweep folders and trace caches stay valid.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eg::sweep {

// Limits of a sweep config. Each point trains a network (minutes to hours), so 10^4 points is
// weeks of compute; the bound keeps a typo such as a 1000-element seed list from expanding into
// millions of points (and a sweep.json of gigabytes).
inline constexpr std::size_t kMaxSweepPoints = 10000;
// Any string value (labels, paths, trainer arguments): far longer than any real one.
inline constexpr std::size_t kMaxStringBytes = 4096;
// The sweep's name, which goes into job names.
inline constexpr std::size_t kMaxNameBytes = 64;

struct Point {
  int index = 0;      // position in the expanded grid (--point K)
  std::string label;  // the grid's label (e.g. "reference"); not part of any identity
  std::string network, dataset, mode;
  double pruning_rate = 0.0;
  // Stochastic mini-batch dropping (egtrain --smd-drop-prob): the run executes about (1 - p) of
  // its nominal mini-batches, so its energy is the simulated per-iteration energy times the
  // executed iterations (the summary's energy_pj_run_total).
  double smd_drop_prob = 0.0;
  uint64_t seed = 0;
  std::string hw_config;                 // as written in the sweep config
  std::filesystem::path hw_config_path;  // resolved
  std::string hw_config_hash;            // of the file's contents
  std::string trace_key;  // hash of everything that shapes the trace (trace cache dir)
  std::string id;         // readable prefix + hash of trace key and hardware config

  // Every parameter, as JSON (what summary rows and result files record about the point).
  nlohmann::json params() const;
};

struct SlurmOptions {
  std::string partition, time, mem;
  int cpus_per_task = 0;  // 0 = leave to the cluster's default
};

struct Sweep {
  std::filesystem::path source;  // the sweep config file (absolute)
  nlohmann::json raw;            // the file as written
  std::string name, description;
  // Training budget, normalised: key -> value, for the trainer's flags (see trainer_args()).
  nlohmann::json training = nlohmann::json::object();
  std::filesystem::path training_config;  // resolved "training.config"; empty if not given
  SlurmOptions slurm;
  std::vector<Point> points;

  // egtrain flags for one point (without --out/--trace-out), in a fixed order.
  std::vector<std::string> trainer_args(const Point& point) const;
};

// Parses and validates; throws eg::Error "<file>: <json pointer>: <problem>" on the first problem
// (unknown key, wrong type, unknown mode/network/dataset, empty grid, pruning rate or mini-batch
// drop probability outside [0,1), --smd-drop-prob in training.extra_args,
// a pruning rate for a mode that does not prune, a missing hardware/training config, duplicate
// points).
Sweep load_sweep(const std::filesystem::path& file);
Sweep parse_sweep(const nlohmann::json& json, const std::filesystem::path& source);

const std::vector<std::string>& known_modes();
const std::vector<std::string>& known_networks();
const std::vector<std::string>& known_datasets();

}  // namespace eg::sweep
