// What `egsim map` and `egsim run` do with a trace next: every conv and FC layer's phases become
// canonical problems that the row-stationary mapper tiles onto the stock EfficientGrad array. The
// input is a trace as for the trace harness (tensor files are optional, so a manifest alone opens);
// geometry the trace reader lets through must not make the mapper loop, overflow or exhaust memory.
#include <filesystem>
#include <string>

#include "base/error.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/canonical_problem.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"
#include "tests/fuzz/fuzz_entries.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "workloads/trace.hpp"

namespace eg::fuzz {

namespace {

constexpr std::size_t kMaxParts = 9;  // as in entry_trace.cpp

const arch::ArchConfig& stock_config() {
  static const arch::ArchConfig config = arch::load_arch_config(
      std::filesystem::path(EGSIM_SOURCE_DIR) / "configs" / "hw" / "efficientgrad.json");
  return config;
}

}  // namespace

bool trace_map_one(const uint8_t* data, std::size_t size) {
  const auto parts = split_parts(as_text(data, size), kMaxParts);
  const std::filesystem::path dir = fresh_subdir("trace_map");
  write_bytes(dir / "manifest.json", parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i)
    write_bytes(dir / ("t" + std::to_string(i) + ".npy"), parts[i]);
  const arch::ArchConfig& config = stock_config();
  try {
    const trace::Trace t = trace::Trace::open(dir);
    const mapper::RowStationaryMapper mapper(config);
    for (const trace::Layer& layer : t.manifest().layers) {
      if (layer.type != trace::LayerType::Conv && layer.type != trace::LayerType::Fc) continue;
      const mapper::ConvView view = mapper::conv_view(layer);
      for (mapper::Phase phase : mapper::kAllPhases)
        for (const mapper::CanonicalProblem& p :
             mapper::canonical_problems(view, phase, config.features))
          mapper.map(p, "layer '" + layer.name + "'");
    }
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace eg::fuzz
