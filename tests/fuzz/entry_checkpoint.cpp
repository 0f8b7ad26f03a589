// A checkpoint is read into a network of the shape the header's config describes; the fuzz entry
// uses one fixed tiny network (ResNet-20 at width 1/16: 1, 2 and 4 channels, on 1x8x8 images), the
// one scripts/make_fuzz_seeds.py writes its checkpoint seeds for.
#include "base/error.hpp"
#include "sw/train/checkpoint.hpp"
#include "sw/train/resnet.hpp"
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

}  // namespace

bool checkpoint_one(const uint8_t* data, std::size_t size) {
  const std::filesystem::path file = scratch_dir() / "checkpoint.bin";
  write_bytes(file, as_text(data, size));
  try {
    train::load_checkpoint(file, tiny_network());
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace eg::fuzz
