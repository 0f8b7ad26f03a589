#include "sw/train/config.hpp"

#include <boost/program_options.hpp>

#include <fstream>
#include <sstream>

#include "sw/train/feedback.hpp"
#include "base/error.hpp"

namespace eg::train {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

enum class Kind { Int, Real, Text, Choice, Flag };

struct OptionSpec {
  std::string name;
  Kind kind;
  std::string help;
  double min = -1e300, max = 1e300;  // inclusive bounds for Int/Real
  bool max_exclusive = false;
  std::vector<std::string> choices;

  OptionSpec(std::string n, Kind k, std::string h, double lo = -1e300, double hi = 1e300,
             bool hi_exclusive = false, std::vector<std::string> ch = {})
      : name(std::move(n)),
        kind(k),
        help(std::move(h)),
        min(lo),
        max(hi),
        max_exclusive(hi_exclusive),
        choices(std::move(ch)) {}
};

const std::vector<OptionSpec>& specs() {
  static const std::vector<OptionSpec> s = {
      {"network", Kind::Choice, "resnet18 | resnet20", 0, 0, false, {"resnet18", "resnet20"}},
      {"dataset",
       Kind::Choice,
       "fashion-mnist | cifar10 | synthetic",
       0,
       0,
       false,
       {"fashion-mnist", "cifar10", "synthetic"}},
      {"data-dir", Kind::Text,
       "data set directory (fashion-mnist default: "
       "/usr/share/datasets/fashion-mnist; required for cifar10)"},
      {"mode", Kind::Choice, "bp | fa | sign | ssfa | efficientgrad | bp-prune", 0, 0, false,
       mode_names()},
      {"pruning-rate", Kind::Real, "P in [0, 1): tau = Phi^-1((1+P)/2) * sigma", 0, 1, true},
      {"sigma-estimator",
       Kind::Choice,
       "mean_abs | std | mean_abs_scaled",
       0,
       0,
       false,
       {"mean_abs", "std", "mean_abs_scaled"}},
      {"epochs", Kind::Int, "number of epochs", 1},
      {"iterations", Kind::Int, "stop after this many mini-batches in total (0 = no limit)", 0},
      {"batch", Kind::Int, "mini-batch size", 1},
      {"width", Kind::Real, "channel width multiplier", 1e-6},
      {"lr", Kind::Real, "base learning rate", 0},
      {"momentum", Kind::Real, "SGD momentum", 0, 1, true},
      {"weight-decay", Kind::Real, "L2 weight decay on conv/fc weights", 0},
      {"lr-schedule",
       Kind::Choice,
       "constant | step | cosine",
       0,
       0,
       false,
       {"constant", "step", "cosine"}},
      {"lr-step-epochs", Kind::Int, "step schedule: epochs between decays", 1},
      {"lr-gamma", Kind::Real, "step schedule: decay factor", 0},
      {"seed", Kind::Int, "random seed (weights, B, data order, pruning draws)", 0},
      {"threads", Kind::Int, "worker threads (results are bit-identical for a given count)", 1,
       256},
      {"conv-backend",
       Kind::Choice,
       "onednn (direct convolution kernels, fast) | im2col (OpenBLAS GEMM on an im2col, the "
       "reference the tests compare against)",
       0,
       0,
       false,
       {"onednn", "im2col"}},
      {"out", Kind::Text, "output directory: metrics, checkpoint"},
      {"trace-out", Kind::Text, "trace directory to write"},
      {"trace-iteration", Kind::Int, "write the trace at this mini-batch (1-based; 0 = none)", 0},
      {"train-subset", Kind::Int, "use only the first N training samples (0 = all)", 0},
      {"test-subset", Kind::Int, "use only the first N test samples (0 = all)", 0},
      {"augment", Kind::Flag, "random crop (crop-pad) and horizontal flip"},
      {"crop-pad", Kind::Int, "augmentation: zero padding before the random crop", 0},
      {"bn-momentum", Kind::Real, "BN running-statistics momentum (PyTorch default 0.1)", 0, 1},
      {"bn-eps", Kind::Real, "BN epsilon (PyTorch default 1e-5)", 1e-12},
      {"checkpoint-every", Kind::Int, "also checkpoint every N mini-batches (0 = per epoch only)",
       0},
      {"resume", Kind::Flag, "continue from the checkpoint in --out"},
      {"eval-batch", Kind::Int, "batch size for test evaluation", 1},
      {"log-every", Kind::Int, "progress line every N mini-batches (0 = per epoch only)", 0},
      {"synthetic-train-size", Kind::Int, "synthetic data: training samples", 1},
      {"synthetic-test-size", Kind::Int, "synthetic data: test samples", 0},
      {"synthetic-channels", Kind::Int, "synthetic data: channels", 1},
      {"synthetic-height", Kind::Int, "synthetic data: height", 1},
      {"synthetic-width", Kind::Int, "synthetic data: width", 1},
      {"synthetic-noise", Kind::Real, "synthetic data: noise std around class prototypes", 0},
      {"histogram-bins", Kind::Int, "bins of the per-layer dy histogram", 1},
      {"histogram-range-std", Kind::Real, "dy histogram spans +-this many standard deviations",
       1e-6},
  };
  return s;
}

const OptionSpec* find_spec(const std::string& name) {
  for (const OptionSpec& s : specs())
    if (s.name == name) return &s;
  return nullptr;
}

json defaults_json() {
  return to_json(TrainConfig{});
}

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& what) {
  throw Error(source + ": key '" + key + "': " + what);
}

void check_range(const OptionSpec& s, double v, const std::string& source) {
  const bool over = s.max_exclusive ? v >= s.max : v > s.max;
  if (v < s.min || over) {
    std::ostringstream os;
    os << "value " << v << " out of range (must be >= " << s.min;
    if (s.max < 1e299) os << " and " << (s.max_exclusive ? "< " : "<= ") << s.max;
    os << ")";
    fail(source, s.name, os.str());
  }
}

std::string choices_text(const OptionSpec& s) {
  std::string t;
  for (const auto& c : s.choices) t += (t.empty() ? "" : ", ") + c;
  return t;
}

// Validates a JSON value for `s` and returns it normalised.
json validate(const OptionSpec& s, const json& v, const std::string& source) {
  switch (s.kind) {
    case Kind::Int: {
      if (!v.is_number_integer()) fail(source, s.name, "must be an integer");
      check_range(s, v.get<double>(), source);
      return v;
    }
    case Kind::Real: {
      if (!v.is_number()) fail(source, s.name, "must be a number");
      check_range(s, v.get<double>(), source);
      return v.get<double>();
    }
    case Kind::Text:
      if (!v.is_string()) fail(source, s.name, "must be a string");
      return v;
    case Kind::Choice: {
      if (!v.is_string()) fail(source, s.name, "must be one of: " + choices_text(s));
      for (const auto& c : s.choices)
        if (c == v.get<std::string>()) return v;
      fail(source, s.name, "'" + v.get<std::string>() + "' is not one of: " + choices_text(s));
    }
    case Kind::Flag:
      if (!v.is_boolean()) fail(source, s.name, "must be true or false");
      return v;
  }
  return v;
}

json from_text(const OptionSpec& s, const std::string& text, const std::string& source) {
  try {
    size_t used = 0;
    switch (s.kind) {
      case Kind::Int: {
        const long long v = std::stoll(text, &used);
        if (used != text.size()) throw std::invalid_argument(text);
        return validate(s, json(static_cast<int64_t>(v)), source);
      }
      case Kind::Real: {
        const double v = std::stod(text, &used);
        if (used != text.size()) throw std::invalid_argument(text);
        return validate(s, json(v), source);
      }
      case Kind::Flag:
        if (text == "true" || text == "1" || text == "yes") return true;
        if (text == "false" || text == "0" || text == "no") return false;
        throw std::invalid_argument(text);
      default:
        return validate(s, json(text), source);
    }
  } catch (const std::invalid_argument&) {
    fail(source, s.name,
         "'" + text + "' is not a valid " +
             (s.kind == Kind::Int    ? std::string("integer")
              : s.kind == Kind::Real ? std::string("number")
                                     : std::string("true/false")));
  } catch (const std::out_of_range&) {
    fail(source, s.name, "'" + text + "' is out of range");
  }
}

void merge_file(json& merged, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open config file");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw Error(path + ": invalid JSON (byte " + std::to_string(e.byte) + ")");
  }
  if (!j.is_object()) throw Error(path + ": must be a JSON object of key: value");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const OptionSpec* s = find_spec(it.key());
    if (!s) fail(path, it.key(), "unknown key");
    merged[it.key()] = validate(*s, it.value(), path);
  }
}

TrainConfig from_json(const json& j) {
  TrainConfig c;
  c.network = j.at("network");
  c.dataset = j.at("dataset");
  c.data_dir = j.at("data-dir");
  c.mode = j.at("mode");
  c.pruning_rate = j.at("pruning-rate");
  c.sigma_estimator = j.at("sigma-estimator");
  c.epochs = j.at("epochs");
  c.iterations = j.at("iterations");
  c.batch = j.at("batch");
  c.width = j.at("width");
  c.lr = j.at("lr");
  c.momentum = j.at("momentum");
  c.weight_decay = j.at("weight-decay");
  c.lr_schedule = j.at("lr-schedule");
  c.lr_step_epochs = j.at("lr-step-epochs");
  c.lr_gamma = j.at("lr-gamma");
  c.seed = j.at("seed").get<uint64_t>();
  c.threads = j.at("threads");
  c.conv_backend = j.at("conv-backend");
  c.out = j.at("out");
  c.trace_out = j.at("trace-out");
  c.trace_iteration = j.at("trace-iteration");
  c.train_subset = j.at("train-subset");
  c.test_subset = j.at("test-subset");
  c.augment = j.at("augment");
  c.crop_pad = j.at("crop-pad");
  c.bn_momentum = j.at("bn-momentum");
  c.bn_eps = j.at("bn-eps");
  c.checkpoint_every = j.at("checkpoint-every");
  c.resume = j.at("resume");
  c.eval_batch = j.at("eval-batch");
  c.log_every = j.at("log-every");
  c.synthetic_train_size = j.at("synthetic-train-size");
  c.synthetic_test_size = j.at("synthetic-test-size");
  c.synthetic_channels = j.at("synthetic-channels");
  c.synthetic_height = j.at("synthetic-height");
  c.synthetic_width = j.at("synthetic-width");
  c.synthetic_noise = j.at("synthetic-noise");
  c.histogram_bins = j.at("histogram-bins");
  c.histogram_range_std = j.at("histogram-range-std");
  return c;
}

// Rules that involve more than one key.
void check_combination(const TrainConfig& c, const std::string& source) {
  if (c.dataset == "cifar10" && c.data_dir.empty())
    fail(source, "data-dir", "is required for the cifar10 data set");
  if (c.trace_iteration > 0 && c.trace_out.empty())
    fail(source, "trace-out", "is required when trace-iteration is set");
  if (!c.trace_out.empty() && c.trace_iteration == 0)
    fail(source, "trace-iteration", "must be >= 1 when trace-out is set");
  if (c.resume && c.out.empty()) fail(source, "out", "is required with resume");
  if (c.checkpoint_every > 0 && c.out.empty())
    fail(source, "out", "is required with checkpoint-every");
}

}  // namespace

json to_json(const TrainConfig& c) {
  return json{{"network", c.network},
              {"dataset", c.dataset},
              {"data-dir", c.data_dir},
              {"mode", c.mode},
              {"pruning-rate", c.pruning_rate},
              {"sigma-estimator", c.sigma_estimator},
              {"epochs", c.epochs},
              {"iterations", c.iterations},
              {"batch", c.batch},
              {"width", c.width},
              {"lr", c.lr},
              {"momentum", c.momentum},
              {"weight-decay", c.weight_decay},
              {"lr-schedule", c.lr_schedule},
              {"lr-step-epochs", c.lr_step_epochs},
              {"lr-gamma", c.lr_gamma},
              {"seed", c.seed},
              {"threads", c.threads},
              {"conv-backend", c.conv_backend},
              {"out", c.out},
              {"trace-out", c.trace_out},
              {"trace-iteration", c.trace_iteration},
              {"train-subset", c.train_subset},
              {"test-subset", c.test_subset},
              {"augment", c.augment},
              {"crop-pad", c.crop_pad},
              {"bn-momentum", c.bn_momentum},
              {"bn-eps", c.bn_eps},
              {"checkpoint-every", c.checkpoint_every},
              {"resume", c.resume},
              {"eval-batch", c.eval_batch},
              {"log-every", c.log_every},
              {"synthetic-train-size", c.synthetic_train_size},
              {"synthetic-test-size", c.synthetic_test_size},
              {"synthetic-channels", c.synthetic_channels},
              {"synthetic-height", c.synthetic_height},
              {"synthetic-width", c.synthetic_width},
              {"synthetic-noise", c.synthetic_noise},
              {"histogram-bins", c.histogram_bins},
              {"histogram-range-std", c.histogram_range_std}};
}

TrainConfig load_config_file(const std::string& path) {
  json merged = defaults_json();
  merge_file(merged, path);
  TrainConfig c = from_json(merged);
  check_combination(c, path);
  return c;
}

ParsedCommandLine parse_command_line(int argc, const char* const argv[]) {
  po::options_description desc(
      "egtrain options (every key may also be set in a --config JSON file)");
  desc.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                 "JSON config file (keys as below)");
  for (const OptionSpec& s : specs()) {
    if (s.kind == Kind::Flag)
      desc.add_options()(s.name.c_str(), po::value<std::string>()->implicit_value("true"),
                         s.help.c_str());
    else
      desc.add_options()(s.name.c_str(), po::value<std::string>(), s.help.c_str());
  }
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
  } catch (const po::error& e) {
    throw Error(std::string("command line: ") + e.what());
  }
  ParsedCommandLine out;
  std::ostringstream help;
  help << desc;
  out.help_text = help.str();
  if (vm.count("help")) {
    out.help = true;
    return out;
  }
  json merged = defaults_json();
  std::string source = "command line";
  if (vm.count("config")) {
    source = vm["config"].as<std::string>();
    merge_file(merged, source);
  }
  for (const OptionSpec& s : specs())
    if (vm.count(s.name))
      merged[s.name] =
          from_text(s, vm[s.name].as<std::string>(), "command line (--" + s.name + ")");
  out.config = from_json(merged);
  check_combination(out.config, vm.count("config") ? source + " + command line" : source);
  out.as_json = merged;
  return out;
}

}  // namespace eg::train
