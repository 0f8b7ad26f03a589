#pragma once
// Checkpoints: a JSON header (config, loop position, metrics so far) followed by the raw float32
// parameters, momentum buffers and BN running statistics, in the network's fixed order. All random
// draws are counter-based (random.hpp), so the loop position is the whole generator state.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "sw/train/network.hpp"

namespace eg::train {

// The bytes of checkpoint.bin; the trainer writes them into its output folder atomically.
std::string checkpoint_bytes(const nlohmann::json& header, Network& net);
// Restores the tensors into `net` and returns the header. Throws eg::Error naming the file on a
// bad magic, truncated file or a network whose tensor sizes differ.
nlohmann::json load_checkpoint(const std::filesystem::path& path, Network& net);

}  // namespace eg::train
