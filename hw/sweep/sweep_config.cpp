#include "hw/sweep/sweep_config.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "hw/sweep/json_file.hpp"
#include "hw/sweep/stable_hash.hpp"
#include "base/error.hpp"

namespace eg::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& known_modes() {
  static const std::vector<std::string> modes{"bp",      "fa", "sign", "ssfa", "efficientgrad",
                                              "bp-prune"};
  return modes;
}
const std::vector<std::string>& known_networks() {
  static const std::vector<std::string> networks{"resnet18", "resnet20"};
  return networks;
}
const std::vector<std::string>& known_datasets() {
  static const std::vector<std::string> datasets{"fashion-mnist", "cifar10", "synthetic"};
  return datasets;
}

namespace {

// Modes whose backward pass uses the pruning rate (DESIGN §2); for the others a non-zero rate would
// silently train the same thing under a different name.
bool mode_prunes(const std::string& mode) {
  return mode == "efficientgrad" || mode == "bp-prune";
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) text += (i ? ", " : "") + items[i];
  return text;
}

// For names and messages: short ("0.95", "1e-05").
std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// For the trainer's flags: the shortest text that reads back as exactly this double.
std::string exact_number(double value) {
  return nlohmann::json(value).dump();
}

class Parser {
 public:
  explicit Parser(fs::path source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& pointer, const std::string& problem) const {
    throw Error(source_.string() + ": " + (pointer.empty() ? "/" : pointer) + ": " + problem);
  }

  void only_keys(const json& object, const std::string& pointer,
                 const std::set<std::string>& allowed) const {
    if (!object.is_object()) fail(pointer, "must be an object");
    for (const auto& item : object.items())
      if (!allowed.count(item.key())) {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        fail(pointer + "/" + item.key(), "unknown key (expected one of " + joined(names) + ")");
      }
  }

  std::string string_at(const json& value, const std::string& pointer) const {
    if (!value.is_string()) fail(pointer, "must be a string");
    return value.get<std::string>();
  }
  double number_at(const json& value, const std::string& pointer) const {
    if (!value.is_number()) fail(pointer, "must be a number");
    return value.get<double>();
  }
  int64_t integer_at(const json& value, const std::string& pointer, int64_t min) const {
    if (!value.is_number_integer()) fail(pointer, "must be an integer");
    const int64_t v = value.get<int64_t>();
    if (v < min) fail(pointer, "must be >= " + std::to_string(min));
    return v;
  }
  const json& nonempty_array(const json& object, const std::string& key,
                             const std::string& pointer) const {
    if (!object.contains(key)) fail(pointer + "/" + key, "missing (empty grid)");
    const json& array = object.at(key);
    if (!array.is_array()) fail(pointer + "/" + key, "must be an array");
    if (array.empty()) fail(pointer + "/" + key, "empty grid: list at least one value");
    return array;
  }
  std::string choice_at(const json& value, const std::string& pointer, const std::string& what,
                        const std::vector<std::string>& allowed) const {
    const std::string text = string_at(value, pointer);
    if (std::find(allowed.begin(), allowed.end(), text) == allowed.end())
      fail(pointer, "unknown " + what + " '" + text + "' (expected " + joined(allowed) + ")");
    return text;
  }
  fs::path resolve(const std::string& path) const {
    fs::path p(path);
    return p.is_absolute() ? p : fs::absolute(source_.parent_path() / p).lexically_normal();
  }

 private:
  fs::path source_;
};

enum class Kind { Integer, PositiveNumber, Number, String, Path, StringList };
struct TrainingKey {
  Kind kind;
  int64_t min;  // for integers
};

// The trainer's budget flags a sweep may set (DESIGN: egtrain flags); each key becomes
// --key-with-dashes. Anything else goes through "extra_args" verbatim.
const std::map<std::string, TrainingKey>& training_keys() {
  static const std::map<std::string, TrainingKey> keys{{"config", {Kind::Path, 0}},
                                                       {"data_dir", {Kind::Path, 0}},
                                                       {"epochs", {Kind::Integer, 0}},
                                                       {"iterations", {Kind::Integer, 0}},
                                                       {"batch", {Kind::Integer, 1}},
                                                       {"width", {Kind::PositiveNumber, 0}},
                                                       {"lr", {Kind::PositiveNumber, 0}},
                                                       {"momentum", {Kind::Number, 0}},
                                                       {"weight_decay", {Kind::Number, 0}},
                                                       {"threads", {Kind::Integer, 1}},
                                                       {"trace_iteration", {Kind::Integer, 1}},
                                                       {"sigma_estimator", {Kind::String, 0}},
                                                       {"train_subset", {Kind::Integer, 1}},
                                                       {"test_subset", {Kind::Integer, 1}},
                                                       {"extra_args", {Kind::StringList, 0}}};
  return keys;
}

std::string trainer_flag(const std::string& key) {
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

std::string readable_id_prefix(const Point& p) {
  return p.mode + "-p" + format_number(p.pruning_rate) + "-" + p.network + "-" + p.dataset + "-s" +
         std::to_string(p.seed) + "-" + p.hw_config_path.stem().string();
}

}  // namespace

json Point::params() const {
  return json{{"label", label},
              {"network", network},
              {"dataset", dataset},
              {"mode", mode},
              {"pruning_rate", pruning_rate},
              {"seed", seed},
              {"hw_config", hw_config},
              {"hw_config_hash", hw_config_hash},
              {"trace_key", trace_key}};
}

std::vector<std::string> Sweep::trainer_args(const Point& point) const {
  std::vector<std::string> args;
  if (!training_config.empty()) args.insert(args.end(), {"--config", training_config.string()});
  args.insert(args.end(), {"--network", point.network, "--dataset", point.dataset, "--mode",
                           point.mode, "--pruning-rate", exact_number(point.pruning_rate), "--seed",
                           std::to_string(point.seed)});
  for (const auto& item : training.items()) {
    if (item.key() == "config" || item.key() == "extra_args") continue;
    const json& v = item.value();
    std::string text;
    if (v.is_string())
      text = v.get<std::string>();
    else if (v.is_number_integer())
      text = std::to_string(v.get<int64_t>());
    else
      text = exact_number(v.get<double>());
    args.insert(args.end(), {trainer_flag(item.key()), text});
  }
  if (training.contains("extra_args"))
    for (const auto& a : training.at("extra_args")) args.push_back(a.get<std::string>());
  return args;
}

Sweep load_sweep(const fs::path& file) {
  return parse_sweep(read_json_file(file), fs::absolute(file).lexically_normal());
}

Sweep parse_sweep(const json& root, const fs::path& source) {
  Parser p(source);
  Sweep sweep;
  sweep.source = source;
  sweep.raw = root;
  p.only_keys(root, "", {"name", "description", "training", "grids", "slurm"});
  if (!root.contains("name")) p.fail("/name", "missing");
  sweep.name = p.string_at(root.at("name"), "/name");
  if (sweep.name.empty()) p.fail("/name", "must not be empty");
  if (root.contains("description"))
    sweep.description = p.string_at(root.at("description"), "/description");

  // Training budget: typed, normalised; the trace key hashes this object.
  json training_identity = json::object();
  if (root.contains("training")) {
    const json& t = root.at("training");
    std::set<std::string> allowed;
    for (const auto& k : training_keys()) allowed.insert(k.first);
    p.only_keys(t, "/training", allowed);
    for (const auto& item : t.items()) {
      const std::string ptr = "/training/" + item.key();
      const TrainingKey& key = training_keys().at(item.key());
      const json& v = item.value();
      switch (key.kind) {
        case Kind::Integer:
          sweep.training[item.key()] = p.integer_at(v, ptr, key.min);
          break;
        case Kind::PositiveNumber:
          if (p.number_at(v, ptr) <= 0) p.fail(ptr, "must be > 0");
          sweep.training[item.key()] = v.get<double>();
          break;
        case Kind::Number:
          sweep.training[item.key()] = p.number_at(v, ptr);
          break;
        case Kind::String:
          sweep.training[item.key()] = p.string_at(v, ptr);
          break;
        case Kind::Path: {
          const fs::path resolved = p.resolve(p.string_at(v, ptr));
          if (!fs::exists(resolved)) p.fail(ptr, "'" + resolved.string() + "' does not exist");
          if (item.key() == "config") {
            sweep.training_config = resolved;
            // The file's contents shape the trace, not where it lives.
            training_identity["config_hash"] = stable_hash(read_text_file(resolved));
            continue;
          }
          sweep.training[item.key()] = resolved.string();
          break;
        }
        case Kind::StringList:
          if (!v.is_array()) p.fail(ptr, "must be an array of strings");
          for (size_t i = 0; i < v.size(); ++i) p.string_at(v[i], ptr + "/" + std::to_string(i));
          sweep.training[item.key()] = v;
          break;
      }
    }
  }
  for (const auto& item : sweep.training.items()) training_identity[item.key()] = item.value();

  if (root.contains("slurm")) {
    const json& s = root.at("slurm");
    p.only_keys(s, "/slurm", {"partition", "time", "mem", "cpus_per_task"});
    if (s.contains("partition"))
      sweep.slurm.partition = p.string_at(s["partition"], "/slurm/partition");
    if (s.contains("time")) sweep.slurm.time = p.string_at(s["time"], "/slurm/time");
    if (s.contains("mem")) sweep.slurm.mem = p.string_at(s["mem"], "/slurm/mem");
    if (s.contains("cpus_per_task"))
      sweep.slurm.cpus_per_task =
          static_cast<int>(p.integer_at(s["cpus_per_task"], "/slurm/cpus_per_task", 1));
  }

  if (!root.contains("grids")) p.fail("/grids", "missing (empty grid)");
  const json& grids = root.at("grids");
  if (!grids.is_array()) p.fail("/grids", "must be an array of grid objects");
  if (grids.empty()) p.fail("/grids", "empty grid: list at least one grid");

  std::map<std::string, std::string> hw_hashes;  // resolved path -> content hash
  std::map<std::string, std::string> seen_ids;   // id -> pointer of the grid that made it
  for (size_t g = 0; g < grids.size(); ++g) {
    const std::string gp = "/grids/" + std::to_string(g);
    const json& grid = grids[g];
    p.only_keys(grid, gp,
                {"label", "networks", "datasets", "modes", "pruning_rates", "hw_configs", "seeds"});
    const std::string label =
        grid.contains("label") ? p.string_at(grid["label"], gp + "/label") : "";
    const json& networks = p.nonempty_array(grid, "networks", gp);
    const json& datasets = p.nonempty_array(grid, "datasets", gp);
    const json& modes = p.nonempty_array(grid, "modes", gp);
    const json& rates = p.nonempty_array(grid, "pruning_rates", gp);
    const json& hws = p.nonempty_array(grid, "hw_configs", gp);
    const json& seeds = p.nonempty_array(grid, "seeds", gp);

    // Validate every value first, so errors name the value's own position.
    std::vector<std::string> network_v, dataset_v, mode_v;
    std::vector<double> rate_v;
    std::vector<uint64_t> seed_v;
    std::vector<std::pair<std::string, fs::path>> hw_v;
    for (size_t i = 0; i < networks.size(); ++i)
      network_v.push_back(p.choice_at(networks[i], gp + "/networks/" + std::to_string(i), "network",
                                      known_networks()));
    for (size_t i = 0; i < datasets.size(); ++i)
      dataset_v.push_back(p.choice_at(datasets[i], gp + "/datasets/" + std::to_string(i), "dataset",
                                      known_datasets()));
    for (size_t i = 0; i < modes.size(); ++i)
      mode_v.push_back(
          p.choice_at(modes[i], gp + "/modes/" + std::to_string(i), "mode", known_modes()));
    for (size_t i = 0; i < rates.size(); ++i) {
      const std::string ptr = gp + "/pruning_rates/" + std::to_string(i);
      const double r = p.number_at(rates[i], ptr);
      if (!(r >= 0.0 && r < 1.0))
        p.fail(ptr, "pruning rate " + format_number(r) + " outside [0, 1)");
      rate_v.push_back(r);
    }
    for (size_t i = 0; i < seeds.size(); ++i)
      seed_v.push_back(
          static_cast<uint64_t>(p.integer_at(seeds[i], gp + "/seeds/" + std::to_string(i), 0)));
    for (size_t i = 0; i < hws.size(); ++i) {
      const std::string ptr = gp + "/hw_configs/" + std::to_string(i);
      const std::string written = p.string_at(hws[i], ptr);
      const fs::path resolved = p.resolve(written);
      if (!fs::is_regular_file(resolved))
        p.fail(ptr, "hardware config '" + resolved.string() + "' does not exist");
      if (!hw_hashes.count(resolved.string()))
        hw_hashes[resolved.string()] = stable_hash(read_text_file(resolved));
      hw_v.emplace_back(written, resolved);
    }
    for (const auto& mode : mode_v)
      for (double r : rate_v)
        if (r != 0.0 && !mode_prunes(mode))
          p.fail(gp + "/pruning_rates", "pruning rate " + format_number(r) +
                                            " has no effect on mode '" + mode +
                                            "' (only efficientgrad and bp-prune prune)");

    for (const auto& network : network_v)
      for (const auto& dataset : dataset_v)
        for (const auto& mode : mode_v)
          for (uint64_t seed : seed_v)
            for (double rate : rate_v)
              for (const auto& hw : hw_v) {
                Point point;
                point.index = static_cast<int>(sweep.points.size());
                point.label = label;
                point.network = network;
                point.dataset = dataset;
                point.mode = mode;
                point.pruning_rate = rate;
                point.seed = seed;
                point.hw_config = hw.first;
                point.hw_config_path = hw.second;
                point.hw_config_hash = hw_hashes.at(hw.second.string());
                point.trace_key = stable_hash(json{{"trace_format", 1},
                                                   {"network", network},
                                                   {"dataset", dataset},
                                                   {"mode", mode},
                                                   {"pruning_rate", rate},
                                                   {"seed", seed},
                                                   {"training", training_identity}});
                point.id = readable_id_prefix(point) + "-" +
                           stable_hash(point.trace_key + "/" + point.hw_config_hash).substr(0, 10);
                auto [it, fresh] = seen_ids.emplace(point.id, gp);
                if (!fresh)
                  p.fail(gp,
                         "duplicate point " + point.id + " (also produced by " + it->second + ")");
                sweep.points.push_back(std::move(point));
              }
  }
  return sweep;
}

}  // namespace eg::sweep
