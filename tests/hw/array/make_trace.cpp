// egsim_make_trace: writes a trace with real values (naive reference layers) for the CLI tests and
// scripts/bench_sim.sh.  usage: egsim_make_trace OUT_DIR {tiny|resnet18} [dy_zero_fraction] [seed]
//   tiny:     the tiny ResNet of the array tests (batch 2)
//   resnet18: the distinct conv shapes of ResNet-18 (CIFAR form, 32x32 input) and its FC, batch 1,
//             each layer on its own (inputs = network input)
#include <cstdlib>
#include <iostream>

#include <systemc>

#include "base/error.hpp"
#include "tests/hw/array/trace_builder.hpp"

int sc_main(int, char*[]) {
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: egsim_make_trace OUT_DIR {tiny|resnet18} [dy_zero_fraction] [seed]\n";
    return 2;
  }
  const std::string kind = argv[2];
  const double zeros = argc > 3 ? std::atof(argv[3]) : 0.9;
  const uint64_t seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;
  try {
    if (kind == "tiny") {
      eg::testing::write_tiny_resnet(argv[1], zeros, seed);
    } else if (kind == "resnet18") {
      eg::testing::TraceBuilder b("resnet18-cifar-layers", 1, zeros, seed);
      b.conv("conv1", {}, 3, 32, 64, 3, 1, 1);
      b.conv("layer1_conv", {}, 64, 32, 64, 3, 1, 1);
      b.conv("layer2_conv_s2", {}, 64, 32, 128, 3, 2, 1);
      b.conv("layer2_shortcut", {}, 64, 32, 128, 1, 2, 0);
      b.conv("layer2_conv", {}, 128, 16, 128, 3, 1, 1);
      b.conv("layer3_conv_s2", {}, 128, 16, 256, 3, 2, 1);
      b.conv("layer3_conv", {}, 256, 8, 256, 3, 1, 1);
      b.conv("layer4_conv_s2", {}, 256, 8, 512, 3, 2, 1);
      b.conv("layer4_conv", {}, 512, 4, 512, 3, 1, 1);
      b.fc("fc", {}, 512, 10);
      b.write(argv[1]);
    } else {
      std::cerr << "egsim_make_trace: unknown kind '" << kind << "'\n";
      return 2;
    }
  } catch (const eg::Error& e) {
    std::cerr << "egsim_make_trace: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
