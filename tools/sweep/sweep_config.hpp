#pragma once
// A sweep configuration (configs/sweeps/*.json), parsed strictly, and its expansion into points.
//
// {
//   "name": "pruning",                       // names the sweep in reports
//   "description": "...",                    // optional, shown in the HTML report
//   "training": { "config": "../train/x.json", "epochs": 1, "iterations": 200, ... },
//   "grids": [ { "label": "...", "networks": [...], "datasets": [...], "modes": [...],
//                "pruning_rates": [...], "hw_configs": ["../hw/efficientgrad.json"], "seeds": [1],
//                "smd_drop_probs": [0, 0.5],       // optional, default [0]
//                "weight_gradients": ["exact", "psg"],          // optional, default ["exact"]
//                "slu_target_skips": [0, 0.2, 0.4],             // optional, default [0] (off)
//                "trainable_lasts": [0, 4],                     // optional, default [0] (all)
//                "grad_filters": [0, 2, 4],                     // optional, default [0] (off)
//                "backward_schedules": ["separate", "interleaved"],  // optional: hw-config edit
//                "init_from": "../../runs/pretrain/checkpoint.bin",  // optional
//                "train_range": "30000:60000",                  // optional
//                "lr": 0.01 }                                   // optional: egtrain --lr
//                ],
//   "slurm": { "partition": "...", "time": "02:00:00", "cpus_per_task": 2, "mem": "4G" }   //
//   optional
// }
//
// Relative paths are relative to the directory of the sweep config file. The points are the union
// of every grid's cartesian product, in order: grids as listed, then networks, datasets, modes,
// seeds, pruning rates, mini-batch drop probabilities, weight-gradient rules, SLU target skips,
// trainable-last counts, gradient-filter patch sizes, hardware configs, backward schedules (the
// last varies fastest; the last two change only the simulation, so their points share one trace).
// A point at every axis's default (drop probability 0, "exact", skip 0, K 0, R 0, no schedule edit,
// no init_from, no train_range) has the identity (id, trace key, trainer flags) it had before the
// axes existed, so earlier sweep folders and trace caches stay valid.
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
// Gradient-filtering patch sizes (egtrain --grad-filter R, R >= 2): a patch wider than every
// feature map of the networks the sweep trains (32 x 32 CIFAR-10 inputs at most) averages each
// whole map, so larger values are typos.
inline constexpr int64_t kMaxGradFilter = 32;
// Trainable-last counts (egtrain --trainable-last K): ResNet-18 has 20 convolutions and ResNet-20
// 21 (with their shortcut projections); a count at or above that trains every layer, and 1000 is
// far above any real network the trainer builds, so only typos are refused here (the trainer
// checks the count against the network it builds).
inline constexpr int64_t kMaxTrainableLast = 1000;
// train_range ends: the trainer's own sample limit bounds real values; 10^9 images is beyond any
// data set the trainer reads and keeps BEGIN:END far from integer overflow.
inline constexpr int64_t kMaxTrainRangeEnd = 1000000000;
// A grid's learning rate (egtrain --lr): SGD at a learning rate above 10 diverges on any network
// the trainer builds, so larger values are typos.
inline constexpr double kMaxGridLearningRate = 10.0;
// The backward schedule every hardware config without features.backward_schedule runs (all
// layers' backward, then all weight gradients: EfficientGrad's Algorithm 1).
inline constexpr const char* kDefaultBackwardSchedule = "separate";

struct Point {
  int index = 0;      // position in the expanded grid (--point K)
  std::string label;  // the grid's label (e.g. "reference"); not part of any identity
  std::string network, dataset, mode;
  double pruning_rate = 0.0;
  // Stochastic mini-batch dropping (egtrain --smd-drop-prob): the run executes about (1 - p) of
  // its nominal mini-batches, so its energy is the simulated per-iteration energy times the
  // executed iterations (the summary's energy_pj_run_total).
  double smd_drop_prob = 0.0;
  // E2-Train's predictive sign gradient: "exact" (default) or "psg" (egtrain --weight-gradient).
  std::string weight_gradient = "exact";
  // E2-Train's selective layer update: 0 = off; s > 0 = egtrain --slu --slu-target-skip s.
  double slu_target_skip = 0.0;
  // Gradient filtering: only the last K conv layers train (0 = all), filtered over R x R patches
  // (0 = off).
  int64_t trainable_last = 0;
  int64_t grad_filter = 0;
  // Fine-tuning: start from this checkpoint (as written in the sweep config; empty = none) and
  // train on images [BEGIN, END) ("BEGIN:END"; empty = the whole training set).
  std::string init_from;
  std::filesystem::path init_from_path;  // resolved
  std::string train_range;
  double lr = 0.0;  // the grid's learning rate; 0: the training config's
  uint64_t seed = 0;
  std::string hw_config;                 // as written in the sweep config
  std::filesystem::path hw_config_path;  // resolved
  // The grid's backward_schedules value ("" when the grid has no such axis: the hardware config
  // runs as written) and the schedule the point's simulation runs.
  std::string backward_schedule_axis;
  std::string backward_schedule = kDefaultBackwardSchedule;
  // True when the point runs a derived copy of the hardware config (its backward schedule set
  // to backward_schedule), written into the point's folder.
  bool hw_config_derived = false;
  // Of the file's contents; for a derived copy, of the file's hash and the edit.
  std::string hw_config_hash;
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

// The hardware config a point's simulation runs: `point.hw_config_path` as is, or, for a derived
// one, <point_dir>/hw_config.json.
std::filesystem::path simulated_hw_config(const Point& point,
                                          const std::filesystem::path& point_dir);
// The contents of a point's derived hardware config: its file with features.backward_schedule
// set and the files it names relative to itself (DRAM config, energy table) made absolute, so the
// copy in the point's folder still finds them. Throws eg::Error naming the file.
nlohmann::json derived_hw_config(const Point& point);
// `egsim` arguments (after the program) that simulate `trace` into `sim_out` for `point`.
std::vector<std::string> simulator_args(const Point& point, const std::filesystem::path& point_dir,
                                        const std::filesystem::path& trace,
                                        const std::filesystem::path& sim_out);

// Parses and validates; throws eg::Error "<file>: <json pointer>: <problem>" on the first problem
// (unknown key, wrong type, unknown mode/network/dataset, empty grid, pruning rate, mini-batch
// drop probability or SLU target skip outside [0,1), an unknown weight-gradient rule or backward
// schedule, a patch size or layer count out of range, a gradient filter without trainable_lasts,
// a duplicate value in an axis, a flag that an axis sets in training.extra_args or a key it sets
// in the training config, a missing hardware/training config or init_from checkpoint, a malformed
// train_range, duplicate points).
Sweep load_sweep(const std::filesystem::path& file);
Sweep parse_sweep(const nlohmann::json& json, const std::filesystem::path& source);

const std::vector<std::string>& known_modes();
const std::vector<std::string>& known_networks();
const std::vector<std::string>& known_datasets();

}  // namespace eg::sweep
