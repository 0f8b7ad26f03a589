#pragma once
// Helpers for tests that run whole (tiny) trainings: a synthetic-data config and file reading.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sw/train/config.hpp"

namespace eg::train::testing {

// The egtrain the tests run as a process, and the arguments of a tiny synthetic run: 4
// mini-batches of 16 on one thread (a second at most).
inline const std::string kEgtrain = std::string(EGSIM_BINARY_DIR) + "/bin/egtrain";
inline const std::string kTiny =
    "--dataset synthetic --width 0.25 --batch 16 --synthetic-train-size 64 "
    "--synthetic-test-size 16 --epochs 1 --log-every 0 --threads 1";

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

// egtrain (at `egtrain`) run as a process with `args`: its exit code, and its stderr, kept in
// `stderr_file` (stdout is discarded).
struct EgtrainRun {
  int exit_code;
  std::string err;
};
inline EgtrainRun run_egtrain(const std::string& egtrain, const std::string& args,
                              const std::filesystem::path& stderr_file) {
  const int status =
      std::system((egtrain + " " + args + " >/dev/null 2>" + stderr_file.string()).c_str());
  return {WEXITSTATUS(status), read_bytes(stderr_file)};
}

}  // namespace eg::train::testing
