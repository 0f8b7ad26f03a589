#include "tools/sweep/sweep_config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"
#include "base/quote.hpp"
#include "tools/sweep/stable_hash.hpp"

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

// Modes whose backward pass uses the pruning rate (docs/DESIGN.md §1.3); for the others a non-zero
// rate would silently train the same thing under a different name.
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

// Text that may reach a file name, a job script or a command line: printable, no control
// characters (a newline would start a new line of a script or of a jobs file).
bool has_control_characters(const std::string& text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

bool only_chars(const std::string& text, const char* allowed_punctuation) {
  for (char c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr(allowed_punctuation, c))
      return false;
  return true;
}

// The readable part of a point id taken from a file name (ids name folders and appear in job
// lists): characters outside [A-Za-z0-9._-] become '_', and it is cut to 40 bytes.
std::string id_safe(const std::string& text) {
  std::string out;
  for (char c : text.substr(0, 40))
    out +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
  return out.empty() ? "_" : out;
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
        fail(pointer + "/" + pointer_token(item.key()),
             "unknown key (expected one of " + joined(names) + ")");
      }
  }

  // A string of at most kMaxStringBytes without control characters.
  std::string string_at(const json& value, const std::string& pointer) const {
    if (!value.is_string()) fail(pointer, "must be a string");
    const std::string text = value.get<std::string>();
    if (text.size() > kMaxStringBytes)
      fail(pointer, "longer than " + std::to_string(kMaxStringBytes) + " bytes");
    if (has_control_characters(text)) fail(pointer, "must not contain control characters");
    return text;
  }
  double number_at(const json& value, const std::string& pointer) const {
    if (!value.is_number()) fail(pointer, "must be a number");
    const double v = value.get<double>();
    if (!std::isfinite(v)) fail(pointer, "must be finite");
    return v;
  }
  int64_t integer_at(const json& value, const std::string& pointer, int64_t min) const {
    if (!value.is_number_integer()) fail(pointer, "must be an integer");
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(pointer, "must be <= " + std::to_string(std::numeric_limits<int64_t>::max()));
    const int64_t v = value.get<int64_t>();
    if (v < min) fail(pointer, "must be >= " + std::to_string(min));
    return v;
  }
  uint64_t seed_at(const json& value, const std::string& pointer) const {
    if (!value.is_number_integer() || (!value.is_number_unsigned() && value.get<int64_t>() < 0))
      fail(pointer, "must be a non-negative integer");
    return value.get<uint64_t>();
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
      fail(pointer,
           "unknown " + what + " " + single_quoted(text) + " (expected " + joined(allowed) + ")");
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

// The trainer's budget flags a sweep may set (`egtrain --help`, README.md); each key becomes
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
  return p.mode + "-p" + format_number(p.pruning_rate) +
         (p.smd_drop_prob != 0.0 ? "-d" + format_number(p.smd_drop_prob) : std::string()) + "-" +
         p.network + "-" + p.dataset + "-s" + std::to_string(p.seed) + "-" +
         id_safe(p.hw_config_path.stem().string());
}

// Hash of a file the sweep names (hardware or training config): a regular file of bounded size.
std::string file_hash(const fs::path& file) {
  return stable_hash(read_file(file, kMaxJsonFileBytes));
}

}  // namespace

json Point::params() const {
  return json{
      {"label", label},        {"network", network},           {"dataset", dataset},
      {"mode", mode},          {"pruning_rate", pruning_rate}, {"smd_drop_prob", smd_drop_prob},
      {"seed", seed},          {"hw_config", hw_config},       {"hw_config_hash", hw_config_hash},
      {"trace_key", trace_key}};
}

std::vector<std::string> Sweep::trainer_args(const Point& point) const {
  std::vector<std::string> args;
  if (!training_config.empty()) args.insert(args.end(), {"--config", training_config.string()});
  args.insert(args.end(), {"--network", point.network, "--dataset", point.dataset, "--mode",
                           point.mode, "--pruning-rate", exact_number(point.pruning_rate), "--seed",
                           std::to_string(point.seed)});
  // Only when dropping, so a p = 0 point runs the trainer exactly as before the axis existed.
  if (point.smd_drop_prob != 0.0)
    args.insert(args.end(), {"--smd-drop-prob", exact_number(point.smd_drop_prob)});
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
  return parse_sweep(load_json_file(file), fs::absolute(file).lexically_normal());
}

Sweep parse_sweep(const json& root, const fs::path& source) {
  Parser p(source);
  Sweep sweep;
  sweep.source = source;
  p.only_keys(root, "", {"name", "description", "training", "grids", "slurm"});
  if (!root.contains("name")) p.fail("/name", "missing");
  sweep.name = p.string_at(root.at("name"), "/name");
  if (sweep.name.empty()) p.fail("/name", "must not be empty");
  // The name goes into job names and script comments: letters, digits, '.', '_' and '-'.
  if (sweep.name.size() > kMaxNameBytes || !only_chars(sweep.name, "._-"))
    p.fail("/name", "must be at most " + std::to_string(kMaxNameBytes) +
                        " letters, digits, '.', '_' or '-'");
  if (root.contains("description")) {
    if (!root.at("description").is_string()) p.fail("/description", "must be a string");
    sweep.description = root.at("description").get<std::string>();  // free text, HTML-escaped
  }

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
          std::error_code ec;
          if (!fs::exists(resolved, ec))
            p.fail(ptr, single_quoted(resolved.string()) + " does not exist");
          if (item.key() == "config") {
            sweep.training_config = resolved;
            // The file's contents shape the trace, not where it lives.
            training_identity["config_hash"] = file_hash(resolved);
            continue;
          }
          sweep.training[item.key()] = resolved.string();
          break;
        }
        case Kind::StringList:
          if (!v.is_array()) p.fail(ptr, "must be an array of strings");
          for (size_t i = 0; i < v.size(); ++i) {
            const std::string arg = p.string_at(v[i], ptr + "/" + std::to_string(i));
            // The drop probability is a grid axis: it names points and shapes their energy.
            if (arg == "--smd-drop-prob" || arg.rfind("--smd-drop-prob=", 0) == 0)
              p.fail(ptr + "/" + std::to_string(i),
                     "--smd-drop-prob is set per point by the grids' smd_drop_probs");
          }
          sweep.training[item.key()] = v;
          break;
      }
    }
  }
  for (const auto& item : sweep.training.items()) training_identity[item.key()] = item.value();

  if (root.contains("slurm")) {
    const json& s = root.at("slurm");
    p.only_keys(s, "/slurm", {"partition", "time", "mem", "cpus_per_task"});
    // These go verbatim into #SBATCH lines: Slurm's own syntax (partition lists, "1-02:00:00",
    // "4G") needs no more than letters, digits and ".:,+_-".
    const auto slurm_word = [&](const char* key) {
      const std::string ptr = std::string("/slurm/") + key;
      const std::string text = p.string_at(s[key], ptr);
      if (!only_chars(text, ".:,+_-"))
        p.fail(ptr, "may contain only letters, digits and . : , + _ -");
      return text;
    };
    if (s.contains("partition")) sweep.slurm.partition = slurm_word("partition");
    if (s.contains("time")) sweep.slurm.time = slurm_word("time");
    if (s.contains("mem")) sweep.slurm.mem = slurm_word("mem");
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
                {"label", "networks", "datasets", "modes", "pruning_rates", "hw_configs", "seeds",
                 "smd_drop_probs"});
    // Free text shown in reports, which quote (CSV) or escape (HTML) it.
    std::string label;
    if (grid.contains("label")) {
      if (!grid["label"].is_string()) p.fail(gp + "/label", "must be a string");
      label = grid["label"].get<std::string>();
      if (label.size() > kMaxStringBytes)
        p.fail(gp + "/label", "longer than " + std::to_string(kMaxStringBytes) + " bytes");
    }
    const json& networks = p.nonempty_array(grid, "networks", gp);
    const json& datasets = p.nonempty_array(grid, "datasets", gp);
    const json& modes = p.nonempty_array(grid, "modes", gp);
    const json& rates = p.nonempty_array(grid, "pruning_rates", gp);
    const json& hws = p.nonempty_array(grid, "hw_configs", gp);
    const json& seeds = p.nonempty_array(grid, "seeds", gp);
    // Optional: without it, no mini-batch is dropped.
    const json no_dropping = json::array({0.0});
    const json& drops = grid.contains("smd_drop_probs")
                            ? p.nonempty_array(grid, "smd_drop_probs", gp)
                            : no_dropping;

    // Validate every value first, so errors name the value's own position.
    std::vector<std::string> network_v, dataset_v, mode_v;
    std::vector<double> rate_v, drop_v;
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
    for (size_t i = 0; i < drops.size(); ++i) {
      const std::string ptr = gp + "/smd_drop_probs/" + std::to_string(i);
      const double d = p.number_at(drops[i], ptr);
      // 1 would drop every mini-batch: a run that trains nothing.
      if (!(d >= 0.0 && d < 1.0))
        p.fail(ptr, "mini-batch drop probability " + format_number(d) + " outside [0, 1)");
      drop_v.push_back(d == 0.0 ? 0.0 : d);  // -0 names the same point as 0
    }
    for (size_t i = 0; i < seeds.size(); ++i)
      seed_v.push_back(p.seed_at(seeds[i], gp + "/seeds/" + std::to_string(i)));
    for (size_t i = 0; i < hws.size(); ++i) {
      const std::string ptr = gp + "/hw_configs/" + std::to_string(i);
      const std::string written = p.string_at(hws[i], ptr);
      const fs::path resolved = p.resolve(written);
      std::error_code ec;
      if (!fs::is_regular_file(resolved, ec))
        p.fail(ptr, "hardware config " + single_quoted(resolved.string()) + " does not exist");
      if (!hw_hashes.count(resolved.string())) hw_hashes[resolved.string()] = file_hash(resolved);
      hw_v.emplace_back(written, resolved);
    }
    // Bound the expansion before doing it: each point is a training run.
    uint64_t grid_points = 1;
    for (size_t n : {network_v.size(), dataset_v.size(), mode_v.size(), seed_v.size(),
                     rate_v.size(), drop_v.size(), hw_v.size()})
      if (__builtin_mul_overflow(grid_points, uint64_t{n}, &grid_points))
        grid_points = std::numeric_limits<uint64_t>::max();
    if (grid_points > kMaxSweepPoints - sweep.points.size())
      p.fail(gp, "the sweep would have more than " + std::to_string(kMaxSweepPoints) +
                     " points (this grid alone has " +
                     (grid_points == std::numeric_limits<uint64_t>::max()
                          ? std::string("more than 2^64")
                          : std::to_string(grid_points)) +
                     ")");
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
              for (double drop : drop_v)
                for (const auto& hw : hw_v) {
                  Point point;
                  point.index = static_cast<int>(sweep.points.size());
                  point.label = label;
                  point.network = network;
                  point.dataset = dataset;
                  point.mode = mode;
                  point.pruning_rate = rate;
                  point.smd_drop_prob = drop;
                  point.seed = seed;
                  point.hw_config = hw.first;
                  point.hw_config_path = hw.second;
                  point.hw_config_hash = hw_hashes.at(hw.second.string());
                  json trace_identity{{"trace_format", 1},
                                      {"network", network},
                                      {"dataset", dataset},
                                      {"mode", mode},
                                      {"pruning_rate", rate},
                                      {"seed", seed},
                                      {"training", training_identity}};
                  // Absent at 0: the same training as before the axis existed, the same cache
                  // entry.
                  if (drop != 0.0) trace_identity["smd_drop_prob"] = drop;
                  point.trace_key = stable_hash(trace_identity);
                  point.id =
                      readable_id_prefix(point) + "-" +
                      stable_hash(point.trace_key + "/" + point.hw_config_hash).substr(0, 10);
                  auto [it, fresh] = seen_ids.emplace(point.id, gp);
                  if (!fresh)
                    p.fail(gp, "duplicate point " + point.id + " (also produced by " + it->second +
                                   ")");
                  sweep.points.push_back(std::move(point));
                }
  }
  // Copied only now that every key and value is known to be valid (a copy recurses per level).
  sweep.raw = root;
  return sweep;
}

}  // namespace eg::sweep
