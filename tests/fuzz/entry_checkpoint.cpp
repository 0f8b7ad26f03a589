// A checkpoint is read into a network of the shape the header's config describes, and its header is
// then checked against the run that resumes it, as egtrain --resume does. The fuzz entry uses one
// fixed tiny run: ResNet-20 at width 1/16 (1, 2 and 4 channels) on 1x8x8 images, the config echo
// below, 2 epochs of 8 mini-batches of 4; scripts/make_fuzz_seeds.py writes its seeds for it.
#include "base/error.hpp"
#include "sw/train/checkpoint.hpp"
#include "sw/train/checkpoint_header.hpp"
#include "sw/train/resnet.hpp"
#include "sw/train/weighted_layer.hpp"
#include "tests/fuzz/fuzz_entries.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace eg::fuzz {

namespace {

train::Network& tiny_network() {
  static train::Network net = [] {
    train::ResNetSpec spec;
    spec.arch = "resnet20";
    spec.channels = 1;
    spec.height = spec.width_px = 8;
    spec.width = 0.0625;
    return train::build_resnet(spec);
  }();
  return net;
}

const train::CheckpointExpectation& tiny_run() {
  static const train::CheckpointExpectation run = [] {
    train::CheckpointExpectation e;
    e.config = {{"network", "resnet20"}, {"dataset", "synthetic"},
                {"mode", "bp"},          {"batch", 4},
                {"width", 0.0625},       {"seed", 1}};
    e.epochs = 2;
    e.batches_per_epoch = 8;
    e.batch = 4;
    for (const train::Node& node : tiny_network().nodes())
      if (dynamic_cast<const train::WeightedLayer*>(node.layer.get()))
        e.layers.push_back(node.name);
    e.histogram_bins = 41;
    return e;
  }();
  return run;
}

}  // namespace

bool checkpoint_one(const uint8_t* data, std::size_t size) {
  const std::filesystem::path file = scratch_dir() / "checkpoint.bin";
  write_bytes(file, as_text(data, size));
  try {
    const nlohmann::json header = train::load_checkpoint(file, tiny_network());
    train::check_checkpoint_header(header, file.string(), tiny_run());
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace eg::fuzz
