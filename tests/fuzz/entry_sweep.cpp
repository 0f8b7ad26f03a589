// A sweep config is read from a file (load_sweep) in a folder that also holds the stock hardware
// config (hw.json) and training config (train.json), the names the seeds refer to. Every point's
// trainer flags, parameters, simulator arguments and derived hardware configs are derived too, as
// `egsim sweep` does for each point.
#include <filesystem>

#include "base/error.hpp"
#include "tests/fuzz/fuzz_entries.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tools/sweep/sweep_config.hpp"

namespace eg::fuzz {

namespace fs = std::filesystem;

namespace {

const fs::path& sweep_dir() {
  static const fs::path dir = [] {
    const fs::path d = fresh_subdir("sweep");
    const fs::path configs = fs::path(EGSIM_SOURCE_DIR) / "configs";
    fs::copy_file(configs / "hw" / "efficientgrad.json", d / "hw.json");
    fs::copy_file(configs / "train" / "resnet20_fashion_mnist.json", d / "train.json");
    return d;
  }();
  return dir;
}

}  // namespace

bool sweep_one(const uint8_t* data, std::size_t size) {
  const fs::path file = sweep_dir() / "sweep.json";
  write_bytes(file, as_text(data, size));
  try {
    const sweep::Sweep s = sweep::load_sweep(file);
    for (const sweep::Point& p : s.points) {
      s.trainer_args(p);
      p.params();
      sweep::simulator_args(p, sweep_dir() / "point", "trace", "sim");
      if (p.hw_config_derived) sweep::derived_hw_config(p);
    }
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace eg::fuzz
