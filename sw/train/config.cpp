#include "sw/train/config.hpp"

#include <boost/program_options.hpp>

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <sstream>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "base/json_io.hpp"
#include "sw/train/feedback.hpp"
#include "sw/train/grad_filter.hpp"
#include "sw/train/limits.hpp"
#include "sw/train/slu.hpp"
#include "sw/train/update_rule.hpp"

namespace eg::train {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

// A config file holds ~40 short keys (under 2 KiB); 1 MiB leaves room for long paths, and a wrong
// file passed as --config (a data set) is refused without being read whole.
constexpr std::size_t kMaxConfigFileBytes = std::size_t{1} << 20;

enum class Kind { Int, Real, Text, Choice, Flag };

// One key: its kind, help text and, for numbers, inclusive bounds (Real's upper bound may be
// exclusive). Integers keep int64 bounds, so a bound near 2^63 is exact.
struct OptionSpec {
  std::string name;
  Kind kind = Kind::Text;
  std::string help;
  int64_t int_min = 0, int_max = 0;
  double min = 0.0, max = 0.0;
  bool max_exclusive = false;
  std::vector<std::string> choices;
};

OptionSpec make_spec(std::string name, Kind kind, std::string help) {
  OptionSpec s;
  s.name = std::move(name);
  s.kind = kind;
  s.help = std::move(help);
  return s;
}

OptionSpec int_key(std::string name, std::string help, int64_t lo, int64_t hi) {
  OptionSpec s = make_spec(std::move(name), Kind::Int, std::move(help));
  s.int_min = lo;
  s.int_max = hi;
  return s;
}

OptionSpec real_key(std::string name, std::string help, double lo, double hi,
                    bool hi_exclusive = false) {
  OptionSpec s = make_spec(std::move(name), Kind::Real, std::move(help));
  s.min = lo;
  s.max = hi;
  s.max_exclusive = hi_exclusive;
  return s;
}

OptionSpec choice_key(std::string name, std::string help, std::vector<std::string> choices) {
  OptionSpec s = make_spec(std::move(name), Kind::Choice, std::move(help));
  s.choices = std::move(choices);
  return s;
}

OptionSpec text_key(std::string name, std::string help) {
  return make_spec(std::move(name), Kind::Text, std::move(help));
}

OptionSpec flag_key(std::string name, std::string help) {
  return make_spec(std::move(name), Kind::Flag, std::move(help));
}

// Real-valued keys without a natural upper bound (learning rate, decay, ...) accept any finite
// value; NaN and +-Inf are refused for every real key.
constexpr double kAnyFinite = std::numeric_limits<double>::max();
constexpr int64_t kAnyInt64 = std::numeric_limits<int64_t>::max();

const std::vector<OptionSpec>& specs() {
  static const std::vector<OptionSpec> s = {
      choice_key("network", "resnet18 | resnet20", {"resnet18", "resnet20"}),
      choice_key("dataset", "fashion-mnist | cifar10 | synthetic",
                 {"fashion-mnist", "cifar10", "synthetic"}),
      text_key("data-dir",
               "data set directory (fashion-mnist default: "
               "/usr/share/datasets/fashion-mnist; required for cifar10)"),
      choice_key("mode",
                 "the backward's feedback matrix F (dx = F^T dy): bp (W) | fa (fixed random B) | "
                 "sign (sign(W), entries -1/0/+1, unscaled; update manhattan by default) | ssfa "
                 "(sign(W)*|B|) | efficientgrad (ssfa with dy pruned) | bp-prune (bp with dy "
                 "pruned)",
                 mode_names()),
      real_key("pruning-rate", "P in [0, 1): tau = Phi^-1((1+P)/2) * sigma", 0, 1, true),
      choice_key("sigma-estimator", "mean_abs | std | mean_abs_scaled",
                 {"mean_abs", "std", "mean_abs_scaled"}),
      int_key("epochs", "number of epochs", 1, kMaxEpochs),
      int_key("iterations", "stop after this many mini-batches in total (0 = no limit)", 0,
              kMaxIterations),
      real_key("smd-drop-prob",
               "stochastic mini-batch dropping (E2-Train): each mini-batch is skipped with this "
               "probability in [0, 1), drawn from its own stream of the seed (0 = off; the paper "
               "uses 0.5). Epochs, iterations, the lr schedule and trace-iteration count nominal "
               "mini-batches; a dropped trace-iteration is traced at the last executed one "
               "before it",
               0, 1, true),
      flag_key("slu",
               "selective layer update (E2-Train): a gate per identity-shortcut residual block "
               "decides per sample whether the block runs"),
      real_key("slu-alpha",
               "SLU: weight of the FLOPs penalty (alpha x fraction of the network's FLOPs in the "
               "selected blocks); the start value when slu-target-skip steers it",
               0, kSluAlphaMax),
      real_key("slu-target-skip",
               "SLU: steer alpha toward this skip ratio in [0, 1) (implies slu); -1 = no steering",
               -1, 1, true),
      choice_key("weight-gradient",
                 "exact | psg (E2-Train's predictive sign gradient, any mode: x and w "
                 "fake-quantised to 8 bits, dW = sign of a predictor from the 4 MSBs of x and "
                 "the 10 MSBs of the 16-bit dy where |predictor| >= psg-beta x max|predictor|, "
                 "else of the full-precision gradient; update manhattan by default)",
                 {"exact", "psg"}),
      real_key("psg-beta",
               "PSG threshold factor in [0, 1]: tau = psg-beta x max|predictor| per layer "
               "(default 0.05)",
               0, 1),
      flag_key("swa",
               "stochastic weight averaging: average the weights at the end of each epoch from "
               "swa-start-epoch on; the last epoch's row also reports the averaged model "
               "(BN statistics recomputed on the training set)"),
      int_key("swa-start-epoch", "first epoch (1-based) averaged by swa", 1, kMaxEpochs),
      int_key("batch", "mini-batch size", 1, kMaxBatch),
      real_key("width", "channel width multiplier", 1e-6, kMaxWidth),
      real_key("lr", "base learning rate of update sgd", 0, kAnyFinite),
      choice_key("update",
                 "auto (manhattan for mode sign, sgd otherwise) | sgd (momentum SGD) | "
                 "manhattan (Batch Manhattan: momentum SGD on sign(gradient))",
                 {"auto", "sgd", "manhattan"}),
      real_key("manhattan-lr",
               "base learning rate of update manhattan (default 0.003; lr is sgd's): each "
               "parameter moves by it (times the schedule and momentum) times the sign of its "
               "gradient",
               0, kAnyFinite),
      real_key("momentum", "SGD momentum", 0, 1, true),
      real_key("weight-decay", "L2 weight decay on conv/fc weights", 0, kAnyFinite),
      choice_key("lr-schedule", "constant | step | cosine", {"constant", "step", "cosine"}),
      int_key("lr-step-epochs", "step schedule: epochs between decays", 1, kMaxEpochs),
      real_key("lr-gamma", "step schedule: decay factor", 0, kAnyFinite),
      int_key("seed", "random seed (weights, B, data order, pruning draws)", 0, kAnyInt64),
      int_key("threads", "worker threads (results are bit-identical for a given count)", 1,
              kMaxThreads),
      choice_key("conv-backend",
                 "onednn (direct convolution kernels, fast) | im2col (OpenBLAS GEMM on an "
                 "im2col, the reference the tests compare against)",
                 {"onednn", "im2col"}),
      text_key("out", "output directory: metrics, checkpoint"),
      text_key("trace-out", "trace directory to write"),
      int_key("trace-iteration", "write the trace at this mini-batch (1-based; 0 = none)", 0,
              kMaxIterations),
      int_key("train-subset", "use only the first N training samples (0 = all)", 0, kMaxSamples),
      int_key("test-subset", "use only the first N test samples (0 = all)", 0, kMaxSamples),
      flag_key("augment", "random crop (crop-pad) and horizontal flip"),
      int_key("crop-pad", "augmentation: zero padding before the random crop", 0, kMaxImageSide),
      real_key("bn-momentum", "BN running-statistics momentum (PyTorch default 0.1)", 0, 1),
      // An epsilon above 1 would swamp any activation variance (and overflows float32 when huge).
      real_key("bn-eps", "BN epsilon (PyTorch default 1e-5)", 1e-12, 1),
      int_key("checkpoint-every", "also checkpoint every N mini-batches (0 = per epoch only)", 0,
              kMaxIterations),
      flag_key("resume", "continue from the checkpoint in --out"),
      int_key("eval-batch", "batch size for test evaluation", 1, kMaxBatch),
      int_key("log-every", "progress line every N mini-batches (0 = per epoch only)", 0,
              kMaxIterations),
      int_key("synthetic-train-size", "synthetic data: training samples", 1, kMaxSamples),
      int_key("synthetic-test-size", "synthetic data: test samples", 0, kMaxSamples),
      int_key("synthetic-channels", "synthetic data: channels", 1, kMaxImageChannels),
      int_key("synthetic-height", "synthetic data: height", 1, kMaxImageSide),
      int_key("synthetic-width", "synthetic data: width", 1, kMaxImageSide),
      real_key("synthetic-noise", "synthetic data: noise std around class prototypes", 0,
               kMaxSyntheticNoise),
      int_key("grad-filter",
              "gradient filtering (Yang et al., CVPR 2023): the trainable conv layers average dy "
              "over R x R patches and compute dx and dw on the reduced map (0 = off; R >= 2)",
              0, kMaxGradFilterPatch),
      int_key("trainable-last",
              "only the last K conv layers (and the fc head) train; the earlier ones are frozen "
              "and run forward only (0 = every layer trains). With it or grad-filter the BN "
              "statistics are frozen",
              0, kMaxTrainableLast),
      text_key("init-from", "egtrain checkpoint.bin whose weights and BN statistics start the run"),
      text_key("train-range",
               "BEGIN:END: train on training images [BEGIN, END) only (after train-subset; "
               "normalisation still uses the whole training split)"),
      int_key("histogram-bins", "bins of the per-layer dy histogram", 1, kMaxHistogramBins),
      real_key("histogram-range-std", "dy histogram spans +-this many standard deviations", 1e-6,
               kMaxHistogramRangeStd),
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

// Messages echo values the user gave; a line break in one would break the one-line rule.
std::string one_line(std::string text) {
  for (char& ch : text)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return text;
}

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& what) {
  throw Error(one_line(source + ": key '" + key + "': " + what));
}

std::string number_text(double v) {
  std::ostringstream os;
  os << std::setprecision(15) << v;
  return os.str();
}

void check_int_range(const OptionSpec& s, int64_t v, const std::string& source) {
  if (v < s.int_min || v > s.int_max) {
    std::string bounds = "must be >= " + std::to_string(s.int_min);
    if (s.int_max != kAnyInt64) bounds += " and <= " + std::to_string(s.int_max);
    fail(source, s.name, "value " + std::to_string(v) + " out of range (" + bounds + ")");
  }
}

void check_real_range(const OptionSpec& s, double v, const std::string& source) {
  if (!std::isfinite(v))
    fail(source, s.name, "value " + number_text(v) + " is not a finite number");
  const bool over = s.max_exclusive ? v >= s.max : v > s.max;
  if (v < s.min || over) {
    std::string bounds = "must be >= " + number_text(s.min);
    if (s.max != kAnyFinite)
      bounds += std::string(s.max_exclusive ? " and < " : " and <= ") + number_text(s.max);
    fail(source, s.name, "value " + number_text(v) + " out of range (" + bounds + ")");
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
      // nlohmann keeps integers above 2^63-1 as unsigned; read as int64 they would wrap.
      if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(kAnyInt64))
        fail(source, s.name,
             "value " + std::to_string(v.get<uint64_t>()) + " does not fit a 64-bit integer");
      check_int_range(s, v.get<int64_t>(), source);
      return json(v.get<int64_t>());
    }
    case Kind::Real: {
      if (!v.is_number()) fail(source, s.name, "must be a number");
      check_real_range(s, v.get<double>(), source);
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
    fail(source, s.name,
         "'" + text + "' does not fit a 64-bit " +
             std::string(s.kind == Kind::Int ? "integer" : "floating-point number"));
  }
}

void merge_file(json& merged, const std::string& path) {
  // Opening a FIFO would block before the reader could tell it is not a file.
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type != std::filesystem::file_type::not_found &&
      type != std::filesystem::file_type::regular && type != std::filesystem::file_type::none)
    throw Error(path + ": not a regular file");
  const json j = load_json_file(path, kMaxConfigFileBytes);
  if (!j.is_object()) throw Error(path + ": must be a JSON object of key: value");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const OptionSpec* s = find_spec(it.key());
    if (!s) fail(path, it.key(), "unknown key");
    merged[it.key()] = validate(*s, it.value(), path);
  }
}

// Replaces update "auto" by the rule the mode uses, so configs echo the rule actually used.
void resolve_update(json& merged) {
  // PSG's dW is a sign already: signSGD, i.e. Batch Manhattan.
  if (merged.at("update") == "auto")
    merged["update"] = merged.at("weight-gradient") == "psg"
                           ? to_string(UpdateRule::Manhattan)
                           : to_string(default_update_rule(mode_from_string(merged.at("mode"))));
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
  c.smd_drop_prob = j.at("smd-drop-prob");
  c.slu = j.at("slu");
  c.slu_alpha = j.at("slu-alpha");
  c.slu_target_skip = j.at("slu-target-skip");
  if (c.slu_target_skip >= 0) c.slu = true;
  c.weight_gradient = j.at("weight-gradient");
  c.psg_beta = j.at("psg-beta");
  c.swa = j.at("swa");
  c.swa_start_epoch = j.at("swa-start-epoch");
  c.batch = j.at("batch");
  c.width = j.at("width");
  c.lr = j.at("lr");
  c.update = j.at("update");
  c.manhattan_lr = j.at("manhattan-lr");
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
  c.grad_filter = j.at("grad-filter");
  c.trainable_last = j.at("trainable-last");
  c.init_from = j.at("init-from");
  c.train_range = j.at("train-range");
  c.histogram_bins = j.at("histogram-bins");
  c.histogram_range_std = j.at("histogram-range-std");
  return c;
}

// Rules that involve more than one key.
void check_combination(const TrainConfig& c, const std::string& source) {
  if (c.slu_target_skip < 0 && c.slu_target_skip != -1)
    fail(source, "slu-target-skip",
         "value " + number_text(c.slu_target_skip) +
             " out of range (must be >= 0 and < 1, or -1 for no steering)");
  if (c.dataset == "cifar10" && c.data_dir.empty())
    fail(source, "data-dir", "is required for the cifar10 data set");
  if (c.trace_iteration > 0 && c.trace_out.empty())
    fail(source, "trace-out", "is required when trace-iteration is set");
  if (!c.trace_out.empty() && c.trace_iteration == 0)
    fail(source, "trace-iteration", "must be >= 1 when trace-out is set");
  if (c.resume && c.out.empty()) fail(source, "out", "is required with resume");
  if (c.grad_filter == 1)
    fail(source, "grad-filter", "value 1 would average nothing (0 = off, or a patch side >= 2)");
  if (!c.train_range.empty()) parse_train_range(c.train_range, source);
  // The weight average lives in memory only: a resumed run would restart it without saying so.
  if (c.swa && c.resume)
    fail(source, "swa", "cannot be combined with resume (checkpoints do not keep the average)");
  if (c.swa && c.swa_start_epoch > c.epochs)
    fail(source, "swa-start-epoch",
         std::to_string(c.swa_start_epoch) + " is beyond the run's " + std::to_string(c.epochs) +
             " epochs, so nothing would be averaged");
  if (c.checkpoint_every > 0 && c.out.empty())
    fail(source, "out", "is required with checkpoint-every");
  // A trace iteration the run never reaches would end with no trace and no message. The data set
  // size (and so the epochs' length) is checked once it is loaded; --iterations is known now.
  if (c.trace_iteration > 0 && c.iterations > 0 && c.trace_iteration > c.iterations)
    fail(source, "trace-iteration",
         std::to_string(c.trace_iteration) + " is beyond the run's last iteration (iterations = " +
             std::to_string(c.iterations) + ")");
  if (c.dataset == "synthetic") {
    const std::string what = source + ": synthetic data set";
    const int64_t pixels = checked_mul(
        checked_add(c.synthetic_train_size, c.synthetic_test_size, what),
        checked_product(
            std::vector<int64_t>{c.synthetic_channels, c.synthetic_height, c.synthetic_width},
            what),
        what);
    if (pixels > kMaxDatasetPixels)
      fail(source, "synthetic-train-size",
           "the synthetic images (train + test samples x channels x height x width = " +
               std::to_string(pixels) + " floats) exceed the " +
               std::to_string(kMaxDatasetBytes >> 30) + " GiB data set limit");
  }
}

}  // namespace

TrainRange parse_train_range(const std::string& text, const std::string& source) {
  const auto bad = [&](const std::string& why) {
    fail(source, "train-range", "'" + text + "' " + why);
  };
  const size_t colon = text.find(':');
  if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos)
    bad("is not BEGIN:END");
  const auto number = [&](const std::string& part) -> int64_t {
    if (part.empty() || part.size() > 18 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      bad("is not BEGIN:END with whole numbers 0 <= BEGIN < END");
    return std::stoll(part);
  };
  TrainRange r{number(text.substr(0, colon)), number(text.substr(colon + 1))};
  if (r.begin >= r.end) bad("is empty (BEGIN must be below END)");
  if (r.end > kMaxSamples) bad("ends beyond the " + std::to_string(kMaxSamples) + "-sample limit");
  return r;
}

json to_json(const TrainConfig& c) {
  return json{{"network", c.network},
              {"dataset", c.dataset},
              {"data-dir", c.data_dir},
              {"mode", c.mode},
              {"pruning-rate", c.pruning_rate},
              {"sigma-estimator", c.sigma_estimator},
              {"epochs", c.epochs},
              {"iterations", c.iterations},
              {"smd-drop-prob", c.smd_drop_prob},
              {"slu", c.slu},
              {"slu-alpha", c.slu_alpha},
              {"slu-target-skip", c.slu_target_skip},
              {"weight-gradient", c.weight_gradient},
              {"psg-beta", c.psg_beta},
              {"swa", c.swa},
              {"swa-start-epoch", c.swa_start_epoch},
              {"batch", c.batch},
              {"width", c.width},
              {"lr", c.lr},
              {"update", c.update},
              {"manhattan-lr", c.manhattan_lr},
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
              {"grad-filter", c.grad_filter},
              {"trainable-last", c.trainable_last},
              {"init-from", c.init_from},
              {"train-range", c.train_range},
              {"histogram-bins", c.histogram_bins},
              {"histogram-range-std", c.histogram_range_std}};
}

TrainConfig load_config_file(const std::string& path) {
  json merged = defaults_json();
  merge_file(merged, path);
  resolve_update(merged);
  TrainConfig c = from_json(merged);
  c.source = path;
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
    // Stray words are collected (not listed in --help) and refused by name below, not dropped.
    po::options_description with_stray;
    with_stray.add(desc).add_options()("stray-argument", po::value<std::vector<std::string>>());
    po::positional_options_description stray;
    stray.add("stray-argument", -1);
    po::store(po::command_line_parser(argc, argv).options(with_stray).positional(stray).run(), vm);
  } catch (const po::error& e) {
    throw Error(std::string("command line: ") + e.what());
  }
  if (vm.count("stray-argument"))
    throw Error("command line: unexpected argument '" +
                vm["stray-argument"].as<std::vector<std::string>>().front() +
                "' (every setting is --name value)");
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
  resolve_update(merged);
  out.config = from_json(merged);
  out.config.source = vm.count("config") ? source + " + command line" : source;
  check_combination(out.config, out.config.source);
  out.as_json = merged;
  return out;
}

}  // namespace eg::train
