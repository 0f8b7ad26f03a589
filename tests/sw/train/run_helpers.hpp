#pragma once
// Helpers for tests that run whole (tiny) trainings: a synthetic-data config and file reading.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sw/train/config.hpp"

namespace eg::train::testing {

// A tiny ResNet-20 on a small synthetic set: a few seconds at most.
inline TrainConfig tiny_config(const std::filesystem::path& out) {
  TrainConfig c;
  c.network = "resnet20";
  c.dataset = "synthetic";
  c.width = 0.25;
  c.batch = 16;
  c.epochs = 2;
  c.lr = 0.05;
  c.synthetic_train_size = 96;
  c.synthetic_test_size = 32;
  c.synthetic_height = 8;
  c.synthetic_width = 8;
  c.synthetic_channels = 2;
  c.mode = "efficientgrad";
  c.pruning_rate = 0.9;
  c.threads = 2;
  c.log_every = 0;
  c.seed = 3;
  c.out = out.string();
  return c;
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace eg::train::testing
