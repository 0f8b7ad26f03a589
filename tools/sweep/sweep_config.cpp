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

// Each axis adds its part only away from its default, so a point at every default keeps the id it
// had before the axis existed.
std::string readable_id_prefix(const Point& p) {
  std::string training;
  if (p.smd_drop_prob != 0.0) training += "-d" + format_number(p.smd_drop_prob);
  if (p.weight_gradient != "exact") training += "-" + p.weight_gradient;
  if (p.slu_target_skip != 0.0) training += "-slu" + format_number(p.slu_target_skip);
  if (p.trainable_last != 0) training += "-last" + std::to_string(p.trainable_last);
  if (p.grad_filter != 0) training += "-gf" + std::to_string(p.grad_filter);
  const std::string schedule =
      !p.backward_schedule_axis.empty() && p.backward_schedule != kDefaultBackwardSchedule
          ? "-" + p.backward_schedule
          : std::string();
  return p.mode + "-p" + format_number(p.pruning_rate) + training + "-" + p.network + "-" +
         p.dataset + "-s" + std::to_string(p.seed) + "-" +
         id_safe(p.hw_config_path.stem().string()) + schedule;
}

// Trainer flags and training-config keys that a grid axis or grid key sets per point: given in
// training.extra_args or in the training config, they would train every point the same way under
// names that say otherwise.
struct AxisFlag {
  const char* flag;    // egtrain flag
  const char* config;  // the same in a training config file
  const char* where;   // what sets it per point
};
const std::vector<AxisFlag>& axis_flags() {
  static const std::vector<AxisFlag> flags{
      {"--smd-drop-prob", "smd-drop-prob", "per point by the grids' smd_drop_probs"},
      {"--weight-gradient", "weight-gradient", "per point by the grids' weight_gradients"},
      {"--slu-target-skip", "slu-target-skip", "per point by the grids' slu_target_skips"},
      {"--trainable-last", "trainable-last", "per point by the grids' trainable_lasts"},
      {"--grad-filter", "grad-filter", "per point by the grids' grad_filters"},
      {"--init-from", "init-from", "per grid by its init_from"},
      {"--train-range", "train-range", "per grid by its train_range"}};
  return flags;
}

bool is_flag(const std::string& arg, const std::string& flag) {
  return arg == flag || arg.rfind(flag + "=", 0) == 0;
}

// The hardware config's own backward schedule (absent: the schedule every config had before the
// switch existed).
std::string configured_backward_schedule(const json& hw) {
  if (hw.is_object() && hw.contains("features") && hw["features"].is_object() &&
      hw["features"].contains("backward_schedule") &&
      hw["features"]["backward_schedule"].is_string())
    return hw["features"]["backward_schedule"].get<std::string>();
  return kDefaultBackwardSchedule;
}

const std::vector<std::string>& known_weight_gradients() {
  static const std::vector<std::string> rules{"exact", "psg"};
  return rules;
}
const std::vector<std::string>& known_backward_schedules() {
  static const std::vector<std::string> schedules{"separate", "interleaved"};
  return schedules;
}

// "BEGIN:END" with 0 <= BEGIN < END <= kMaxTrainRangeEnd, plain decimal digits.
bool parse_train_range(const std::string& text, int64_t* begin, int64_t* end) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
  for (const std::string* part : {&a, &b}) {
    if (part->size() > 10) return false;
    for (char c : *part)
      if (c < '0' || c > '9') return false;
  }
  *begin = std::stoll(a);
  *end = std::stoll(b);
  return true;
}

// Hash of a file the sweep names (hardware or training config): a regular file of bounded size.
std::string file_hash(const fs::path& file) {
  return stable_hash(read_file(file, kMaxJsonFileBytes));
}

}  // namespace

json Point::params() const {
  return json{{"label", label},
              {"network", network},
              {"dataset", dataset},
              {"mode", mode},
              {"pruning_rate", pruning_rate},
              {"smd_drop_prob", smd_drop_prob},
              {"weight_gradient", weight_gradient},
              {"slu_target_skip", slu_target_skip},
              {"trainable_last", trainable_last},
              {"grad_filter", grad_filter},
              {"init_from", init_from.empty() ? json(nullptr) : json(init_from)},
              {"train_range", train_range.empty() ? json(nullptr) : json(train_range)},
              {"lr", lr == 0.0 ? json(nullptr) : json(lr)},
              {"seed", seed},
              {"hw_config", hw_config},
              {"backward_schedule", backward_schedule},
              {"hw_config_hash", hw_config_hash},
              {"trace_key", trace_key}};
}

fs::path simulated_hw_config(const Point& point, const fs::path& point_dir) {
  return point.hw_config_derived ? point_dir / "hw_config.json" : point.hw_config_path;
}

json derived_hw_config(const Point& point) {
  json hw = load_json_file(point.hw_config_path);
  const std::string file = point.hw_config_path.string();
  if (!hw.is_object()) throw Error(file + ": /: must be an object");
  if (!hw.contains("features") || !hw["features"].is_object())
    throw Error(file + ": /features: missing or not an object (backward_schedule goes there)");
  hw["features"]["backward_schedule"] = point.backward_schedule;
  // The copy lives in the point's folder: files named relative to the original must still
  // resolve (the simulator resolves them relative to the config that names them).
  const fs::path base = point.hw_config_path.parent_path();
  const auto absolute = [&](json& value) {
    if (value.is_string() && !value.get<std::string>().empty() &&
        fs::path(value.get<std::string>()).is_relative())
      value = (base / value.get<std::string>()).lexically_normal().string();
  };
  if (hw.contains("offchip") && hw["offchip"].is_object() && hw["offchip"].contains("dram_config"))
    absolute(hw["offchip"]["dram_config"]);
  if (hw.contains("energy_table")) absolute(hw["energy_table"]);
  return hw;
}

std::vector<std::string> simulator_args(const Point& point, const fs::path& point_dir,
                                        const fs::path& trace, const fs::path& sim_out) {
  return {"run",           "--config",     simulated_hw_config(point, point_dir).string(),
          "--trace",       trace.string(), "--out",
          sim_out.string()};
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
  // Likewise each of the E2-Train and gradient-filtering axes, only away from its default.
  if (point.weight_gradient != "exact")
    args.insert(args.end(), {"--weight-gradient", point.weight_gradient});
  if (point.slu_target_skip != 0.0)
    args.insert(args.end(), {"--slu", "--slu-target-skip", exact_number(point.slu_target_skip)});
  if (point.trainable_last != 0)
    args.insert(args.end(), {"--trainable-last", std::to_string(point.trainable_last)});
  if (point.grad_filter != 0)
    args.insert(args.end(), {"--grad-filter", std::to_string(point.grad_filter)});
  if (!point.init_from.empty())
    args.insert(args.end(), {"--init-from", point.init_from_path.string()});
  if (!point.train_range.empty()) args.insert(args.end(), {"--train-range", point.train_range});
  if (point.lr != 0.0) args.insert(args.end(), {"--lr", exact_number(point.lr)});
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

  // Whether any grid has an SLU axis (read before the grids are validated: --slu in the training
  // budget contradicts it).
  bool grids_use_slu = false;
  if (root.contains("grids") && root.at("grids").is_array())
    for (const auto& grid : root.at("grids"))
      grids_use_slu = grids_use_slu || (grid.is_object() && grid.contains("slu_target_skips"));

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
            // A training config that sets what an axis sets per point would train every point
            // the same way (the trainer's flags are documented to override the file, but a
            // grid value of 0 or "exact" adds no flag).
            const json file = load_json_file(resolved);
            if (file.is_object()) {
              for (const auto& axis : axis_flags())
                if (file.contains(axis.config))
                  p.fail(ptr, single_quoted(resolved.string()) + " sets '" + axis.config +
                                  "', which is set " + axis.where);
              if (file.contains("slu") && grids_use_slu)
                p.fail(ptr, single_quoted(resolved.string()) +
                                " sets 'slu', which the grids' slu_target_skips set per point");
            }
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
            // Grid axes and grid keys name points and shape their training and energy.
            for (const auto& axis : axis_flags())
              if (is_flag(arg, axis.flag))
                p.fail(ptr + "/" + std::to_string(i),
                       std::string(axis.flag) + " is set " + axis.where);
            // With a skip axis, skip 0 means SLU off: a global --slu would contradict it.
            if (grids_use_slu && is_flag(arg, "--slu"))
              p.fail(ptr + "/" + std::to_string(i),
                     "--slu is set per point by the grids' slu_target_skips (0 = off)");
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

  std::map<std::string, std::string> hw_hashes;          // resolved path -> content hash
  std::map<std::string, std::string> hw_schedules;       // resolved path -> its backward schedule
  std::map<std::string, std::string> checkpoint_hashes;  // resolved init_from -> content hash
  std::map<std::string, std::string> seen_ids;           // id -> pointer of the grid that made it
  for (size_t g = 0; g < grids.size(); ++g) {
    const std::string gp = "/grids/" + std::to_string(g);
    const json& grid = grids[g];
    p.only_keys(grid, gp,
                {"label", "networks", "datasets", "modes", "pruning_rates", "hw_configs", "seeds",
                 "smd_drop_probs", "weight_gradients", "slu_target_skips", "trainable_lasts",
                 "grad_filters", "backward_schedules", "init_from", "train_range", "lr"});
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

    // The E2-Train and gradient-filtering axes: optional, each defaulting to the one value that
    // adds no trainer flag. A value listed twice is refused by name (it would name one point
    // twice).
    const auto optional_axis = [&](const char* key, const json& fallback) -> json {
      return grid.contains(key) ? p.nonempty_array(grid, key, gp) : fallback;
    };
    const auto no_duplicates = [&](const json& values, const char* key) {
      for (size_t i = 0; i < values.size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if (values[i] == values[j])
            p.fail(gp + "/" + key + "/" + std::to_string(i), "duplicate value " + values[i].dump() +
                                                                 " (also at " + gp + "/" + key +
                                                                 "/" + std::to_string(j) + ")");
    };
    std::vector<std::string> weight_gradient_v, schedule_v;
    std::vector<double> slu_v;
    std::vector<int64_t> trainable_last_v, grad_filter_v;
    {
      const json values = optional_axis("weight_gradients", json::array({"exact"}));
      for (size_t i = 0; i < values.size(); ++i)
        weight_gradient_v.push_back(p.choice_at(values[i],
                                                gp + "/weight_gradients/" + std::to_string(i),
                                                "weight-gradient rule", known_weight_gradients()));
      no_duplicates(values, "weight_gradients");
    }
    {
      json values = optional_axis("slu_target_skips", json::array({0.0}));
      for (size_t i = 0; i < values.size(); ++i) {
        const std::string ptr = gp + "/slu_target_skips/" + std::to_string(i);
        const double s = p.number_at(values[i], ptr);
        // 1 would skip every block: a network of shortcuts alone.
        if (!(s >= 0.0 && s < 1.0))
          p.fail(ptr, "SLU target skip " + format_number(s) + " outside [0, 1)");
        slu_v.push_back(s == 0.0 ? 0.0 : s);  // -0 names the same point as 0
        values[i] = slu_v.back();
      }
      no_duplicates(values, "slu_target_skips");
    }
    {
      const json values = optional_axis("trainable_lasts", json::array({0}));
      for (size_t i = 0; i < values.size(); ++i) {
        const std::string ptr = gp + "/trainable_lasts/" + std::to_string(i);
        const int64_t k = p.integer_at(values[i], ptr, 0);
        if (k > kMaxTrainableLast)
          p.fail(ptr, "trainable-last count " + std::to_string(k) + " above " +
                          std::to_string(kMaxTrainableLast));
        trainable_last_v.push_back(k);
      }
      no_duplicates(values, "trainable_lasts");
    }
    {
      const json values = optional_axis("grad_filters", json::array({0}));
      for (size_t i = 0; i < values.size(); ++i) {
        const std::string ptr = gp + "/grad_filters/" + std::to_string(i);
        const int64_t r = p.integer_at(values[i], ptr, 0);
        if (r == 1 || r > kMaxGradFilter)
          p.fail(ptr, "gradient-filter patch size " + std::to_string(r) +
                          " must be 0 (off) or 2 to " + std::to_string(kMaxGradFilter));
        grad_filter_v.push_back(r);
      }
      no_duplicates(values, "grad_filters");
    }
    // Gradient filtering applies to the layers that train; with K = 0 (every layer trains) the
    // paper's protocol (filter the last K layers of a pretrained network) is not what runs, so a
    // grid that filters lists only K > 0 (unfiltered full training goes in a grid of its own).
    for (size_t i = 0; i < grad_filter_v.size(); ++i)
      for (int64_t k : trainable_last_v)
        if (grad_filter_v[i] != 0 && k == 0)
          p.fail(gp + "/grad_filters/" + std::to_string(i),
                 "grad filter " + std::to_string(grad_filter_v[i]) +
                     " needs trainable_lasts > 0 (it filters the last K layers, and "
                     "trainable_last 0, the default, trains every layer)");
    if (grid.contains("backward_schedules")) {
      const json& values = p.nonempty_array(grid, "backward_schedules", gp);
      for (size_t i = 0; i < values.size(); ++i)
        schedule_v.push_back(p.choice_at(values[i], gp + "/backward_schedules/" + std::to_string(i),
                                         "backward schedule", known_backward_schedules()));
      no_duplicates(values, "backward_schedules");
    } else {
      schedule_v.push_back("");  // the hardware config as written
    }
    std::string init_from, init_from_hash, train_range;
    fs::path init_from_path;
    if (grid.contains("init_from")) {
      const std::string ptr = gp + "/init_from";
      init_from = p.string_at(grid["init_from"], ptr);
      if (init_from.empty()) p.fail(ptr, "must name a checkpoint file");
      init_from_path = p.resolve(init_from);
      std::error_code ec;
      if (!fs::is_regular_file(init_from_path, ec))
        p.fail(ptr, "checkpoint " + single_quoted(init_from_path.string()) +
                        " does not exist or is not a file");
      auto [it, fresh] = checkpoint_hashes.emplace(init_from_path.string(), "");
      if (fresh) {
        try {
          it->second = stable_file_hash(init_from_path);
        } catch (const Error& e) {
          p.fail(ptr, e.what());
        }
      }
      init_from_hash = it->second;
    }
    if (grid.contains("train_range")) {
      const std::string ptr = gp + "/train_range";
      train_range = p.string_at(grid["train_range"], ptr);
      int64_t begin = 0, end = 0;
      if (!parse_train_range(train_range, &begin, &end))
        p.fail(ptr, single_quoted(train_range) +
                        " must be BEGIN:END, two whole numbers (training images [BEGIN, END))");
      if (end > kMaxTrainRangeEnd)
        p.fail(ptr, "end " + std::to_string(end) + " above " + std::to_string(kMaxTrainRangeEnd));
      if (begin >= end)
        p.fail(ptr, single_quoted(train_range) + " is empty (BEGIN must be below END)");
    }
    // The grid's own learning rate (egtrain --lr), e.g. a fine-tuning grid's: the training block
    // (or its extra_args) must not set one for every point as well.
    double lr = 0.0;
    if (grid.contains("lr")) {
      const std::string ptr = gp + "/lr";
      lr = p.number_at(grid["lr"], ptr);
      if (lr <= 0 || lr > kMaxGridLearningRate)
        p.fail(ptr, "must be above 0 and at most " + format_number(kMaxGridLearningRate));
      if (sweep.training.contains("lr"))
        p.fail(ptr, "the training block sets 'lr' for every point already");
      if (sweep.training.contains("extra_args"))
        for (const auto& a : sweep.training.at("extra_args"))
          if (is_flag(a.get<std::string>(), "--lr"))
            p.fail(ptr, "training.extra_args sets --lr for every point already");
    }
    for (size_t i = 0; i < hws.size(); ++i) {
      const std::string ptr = gp + "/hw_configs/" + std::to_string(i);
      const std::string written = p.string_at(hws[i], ptr);
      const fs::path resolved = p.resolve(written);
      std::error_code ec;
      if (!fs::is_regular_file(resolved, ec))
        p.fail(ptr, "hardware config " + single_quoted(resolved.string()) + " does not exist");
      if (!hw_hashes.count(resolved.string())) hw_hashes[resolved.string()] = file_hash(resolved);
      // Its backward schedule: what the point runs, and which values of the axis need an
      // edited copy.
      if (!hw_schedules.count(resolved.string())) {
        try {
          hw_schedules[resolved.string()] = configured_backward_schedule(load_json_file(resolved));
        } catch (const Error& e) {
          p.fail(ptr, e.what());
        }
      }
      hw_v.emplace_back(written, resolved);
    }
    // Bound the expansion before doing it: each point is a training run.
    uint64_t grid_points = 1;
    for (size_t n : {network_v.size(), dataset_v.size(), mode_v.size(), seed_v.size(),
                     rate_v.size(), drop_v.size(), weight_gradient_v.size(), slu_v.size(),
                     trainable_last_v.size(), grad_filter_v.size(), hw_v.size(), schedule_v.size()})
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

    // The training-side values of one point (everything but the hardware) and the hardware side.
    struct Training {
      double drop, slu;
      std::string weight_gradient;
      int64_t trainable_last, grad_filter;
    };
    std::vector<Training> trainings;
    for (double drop : drop_v)
      for (const auto& rule : weight_gradient_v)
        for (double slu : slu_v)
          for (int64_t k : trainable_last_v)
            for (int64_t r : grad_filter_v) trainings.push_back({drop, slu, rule, k, r});
    std::vector<std::pair<size_t, std::string>> hardware;  // (index into hw_v, schedule axis)
    for (size_t h = 0; h < hw_v.size(); ++h)
      for (const auto& schedule : schedule_v) hardware.emplace_back(h, schedule);

    for (const auto& network : network_v)
      for (const auto& dataset : dataset_v)
        for (const auto& mode : mode_v)
          for (uint64_t seed : seed_v)
            for (double rate : rate_v)
              for (const auto& t : trainings)
                for (const auto& [h, schedule] : hardware) {
                  const auto& hw = hw_v[h];
                  Point point;
                  point.index = static_cast<int>(sweep.points.size());
                  point.label = label;
                  point.network = network;
                  point.dataset = dataset;
                  point.mode = mode;
                  point.pruning_rate = rate;
                  point.smd_drop_prob = t.drop;
                  point.weight_gradient = t.weight_gradient;
                  point.slu_target_skip = t.slu;
                  point.trainable_last = t.trainable_last;
                  point.grad_filter = t.grad_filter;
                  point.init_from = init_from;
                  point.init_from_path = init_from_path;
                  point.train_range = train_range;
                  point.lr = lr;
                  point.seed = seed;
                  point.hw_config = hw.first;
                  point.hw_config_path = hw.second;
                  point.hw_config_hash = hw_hashes.at(hw.second.string());
                  point.backward_schedule_axis = schedule;
                  point.backward_schedule = hw_schedules.at(hw.second.string());
                  if (!schedule.empty()) {
                    point.backward_schedule = schedule;
                    // An edited copy only when the config does not already run this schedule,
                    // so "separate" on today's configs keeps the point's id.
                    point.hw_config_derived = schedule != hw_schedules.at(hw.second.string());
                    if (point.hw_config_derived)
                      point.hw_config_hash =
                          stable_hash(json{{"hw_config_hash", point.hw_config_hash},
                                           {"features/backward_schedule", schedule}});
                  }
                  json trace_identity{{"trace_format", 1},
                                      {"network", network},
                                      {"dataset", dataset},
                                      {"mode", mode},
                                      {"pruning_rate", rate},
                                      {"seed", seed},
                                      {"training", training_identity}};
                  // Each absent at its default: the same training as before the axis existed,
                  // the same cache entry.
                  if (t.drop != 0.0) trace_identity["smd_drop_prob"] = t.drop;
                  if (t.weight_gradient != "exact")
                    trace_identity["weight_gradient"] = t.weight_gradient;
                  if (t.slu != 0.0) trace_identity["slu_target_skip"] = t.slu;
                  if (t.trainable_last != 0) trace_identity["trainable_last"] = t.trainable_last;
                  if (t.grad_filter != 0) trace_identity["grad_filter"] = t.grad_filter;
                  // The checkpoint's contents, not where it lives (a re-made pretraining trains
                  // anew).
                  if (!init_from.empty()) trace_identity["init_from_hash"] = init_from_hash;
                  if (!train_range.empty()) trace_identity["train_range"] = train_range;
                  if (lr != 0.0) trace_identity["lr"] = lr;
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
