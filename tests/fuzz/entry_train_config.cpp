// egtrain's --config file: written to a file and loaded with every key's validation, then echoed
// back to JSON as the trainer does for its results and checkpoints.
#include "base/error.hpp"
#include "sw/train/config.hpp"
#include "tests/fuzz/fuzz_entries.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace eg::fuzz {

bool train_config_one(const uint8_t* data, std::size_t size) {
  const std::filesystem::path file = scratch_dir() / "train.json";
  write_bytes(file, as_text(data, size));
  try {
    const train::TrainConfig config = train::load_config_file(file.string());
    train::to_json(config);
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace eg::fuzz
