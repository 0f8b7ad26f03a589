#pragma once
// egtrain's configuration: every key is both a JSON key (in a --config file) and a command-line
// flag of the same name; command-line values override the file, the file overrides defaults.
// Unknown keys and bad values are rejected with one line naming the source and the key.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace eg::train {

struct TrainConfig {
  std::string network = "resnet20";
  std::string dataset = "fashion-mnist";
  std::string data_dir;  // empty: /usr/share/datasets/fashion-mnist for fashion-mnist
  std::string mode = "bp";
  double pruning_rate = 0.0;
  std::string sigma_estimator = "mean_abs";
  int64_t epochs = 1;
  int64_t iterations = 0;  // 0 = no limit besides epochs
  // Stochastic mini-batch dropping (smd.hpp): probability in [0, 1) that a mini-batch of the
  // nominal schedule is skipped; 0 = off. Epochs, iterations, the learning-rate schedule and
  // trace-iteration count nominal mini-batches.
  double smd_drop_prob = 0.0;
  // Selective layer update (slu.hpp): gate every identity-shortcut residual block; slu_alpha
  // weighs the FLOPs penalty; slu_target_skip in [0, 1) steers alpha toward that skip ratio
  // (and implies slu); -1 = no steering (alpha stays fixed).
  bool slu = false;
  double slu_alpha = 0.1;
  double slu_target_skip = -1.0;
  // "exact" | "psg": E²-Train's predictive sign gradient (workloads/psg.hpp), with τ̃ =
  // psg_beta·max|predictor| per layer (β = 0.05 as the paper).
  std::string weight_gradient = "exact";
  double psg_beta = 0.05;
  // Stochastic weight averaging (Izmailov et al., UAI 2018), which E²-Train pairs with PSG: the
  // running mean of the parameters at the end of each epoch from swa_start_epoch (1-based) on.
  bool swa = false;
  int64_t swa_start_epoch = 1;
  int64_t batch = 64;
  double width = 1.0;
  double lr = 0.1;  // update sgd's base learning rate
  // "auto" (manhattan for mode sign, sgd otherwise) | "sgd" | "manhattan"; parsing resolves
  // "auto", so a parsed config holds the rule actually used.
  std::string update = "auto";
  // Update manhattan's base learning rate. Its step moves every parameter by this (times the
  // schedule, and the momentum's gain of up to 1/(1 - momentum)) whatever its gradient's size, so
  // SGD's 0.1 would move conv weights (Kaiming std 0.06 to 0.12 in ResNet-20) by more than their
  // size each step. 3e-3 is the best of 3e-4, 1e-3, 3e-3 and 1e-2 for sign on ResNet-20
  // Fashion-MNIST (README, "Sign-symmetric feedback").
  double manhattan_lr = 3e-3;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string lr_schedule = "cosine";
  int64_t lr_step_epochs = 30;
  double lr_gamma = 0.1;
  uint64_t seed = 1;
  int64_t threads = 2;
  std::string conv_backend = "onednn";
  std::string out;
  std::string trace_out;
  int64_t trace_iteration = 0;
  int64_t train_subset = 0;
  int64_t test_subset = 0;
  bool augment = false;
  int64_t crop_pad = 4;
  double bn_momentum = 0.1;
  double bn_eps = 1e-5;
  int64_t checkpoint_every = 0;
  bool resume = false;
  int64_t eval_batch = 256;
  int64_t log_every = 50;
  int64_t synthetic_train_size = 512;
  int64_t synthetic_test_size = 256;
  int64_t synthetic_channels = 1;
  int64_t synthetic_height = 8;
  int64_t synthetic_width = 8;
  double synthetic_noise = 1.0;
  // Gradient filtering (grad_filter.hpp) and fine-tuning. grad_filter: patch side r (0 = off, else
  // >= 2) of the trainable conv layers; trainable_last: only the last K conv layers (and the FC
  // head) train, the rest is frozen (0 = all train). Either one freezes every BN layer's
  // statistics. init_from: an egtrain checkpoint whose weights and BN statistics start the run.
  // train_range: "BEGIN:END", train on training images [BEGIN, END) only (empty = all).
  int64_t grad_filter = 0;
  int64_t trainable_last = 0;
  std::string init_from;
  std::string train_range;
  int64_t histogram_bins = 41;
  double histogram_range_std = 4.0;
  // Where the values came from ("command line", the config file, "<file> + command line"): the
  // prefix of errors found after parsing (run size, trace-iteration vs the data set). Not a key.
  std::string source = "config";
};

struct ParsedCommandLine {
  bool help = false;
  std::string help_text;
  TrainConfig config;
  nlohmann::json as_json;  // every key with its effective value
};

// Throws eg::Error with a one-line message naming the source ("command line" or the config
// file) and the key.
ParsedCommandLine parse_command_line(int argc, const char* const argv[]);

// Loads a JSON config file alone (defaults + file); same validation.
TrainConfig load_config_file(const std::string& path);

nlohmann::json to_json(const TrainConfig& config);

// train-range "BEGIN:END" (0 <= BEGIN < END); throws eg::Error naming `source` and the key.
struct TrainRange {
  int64_t begin = 0, end = 0;
};
TrainRange parse_train_range(const std::string& text, const std::string& source);

}  // namespace eg::train
