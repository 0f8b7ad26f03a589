// Whole-trace runs of the tiny ResNet on both configs: invariants, functional check, failures.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "base/error.hpp"
#include "hw/array/accelerator.hpp"
#include "hw/array/report_writer.hpp"
#include "models/arch/arch_config.hpp"
#include "support/temp_dir.hpp"
#include "tests/hw/array/pe_cycle_checks.hpp"
#include "tests/hw/array/trace_builder.hpp"
#include "workloads/npy.hpp"

using namespace eg;
using namespace eg::hw::array;

namespace {

arch::ArchConfig config(const char* name) {
  return arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/" + name);
}

// MACs of a conv/FC layer with a zero operand the config exploits, per phase, counted MAC by MAC
// from the trace (padding counts as a zero input in forward and the weight gradient, which issue
// it): forward, a zero x; backward, a zero dy (each takes part in C*R*S MACs); weight gradient, a
// zero x or a zero dy. With pe.sparsity "none", nothing.
struct ZeroMacs {
  uint64_t forward = 0, backward = 0, weight_gradient = 0;
};
ZeroMacs zero_macs(const arch::ArchConfig& cfg, const trace::Trace& t, const trace::Layer& l) {
  ZeroMacs z;
  if (cfg.pe.sparsity == arch::Sparsity::None) return z;
  const arch::SparseOperands& so = cfg.features.sparse_operands;
  const std::vector<float> x = t.load(l, "x").data, dy = t.load(l, "dy").data;
  const bool fc = l.type == trace::LayerType::Fc;
  const int64_t n = l.in[0], c = l.in[1], m = l.out[1];
  const int64_t h = fc ? 1 : l.in[2], w = fc ? 1 : l.in[3];
  const int64_t e = fc ? 1 : l.out[2], f = fc ? 1 : l.out[3];
  const int64_t r = fc ? 1 : l.kernel_r, s = fc ? 1 : l.kernel_s;
  const int64_t stride = fc ? 1 : l.stride, pad = fc ? 0 : l.pad;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t im = 0; im < m; ++im)
      for (int64_t ie = 0; ie < e; ++ie)
        for (int64_t jf = 0; jf < f; ++jf) {
          const bool d_zero = dy[static_cast<size_t>(((in * m + im) * e + ie) * f + jf)] == 0.0f;
          for (int64_t ic = 0; ic < c; ++ic)
            for (int64_t ir = 0; ir < r; ++ir)
              for (int64_t is = 0; is < s; ++is) {
                const int64_t hh = ie * stride + ir - pad, ww = jf * stride + is - pad;
                const bool x_zero =
                    hh < 0 || hh >= h || ww < 0 || ww >= w ||
                    x[static_cast<size_t>(((in * c + ic) * h + hh) * w + ww)] == 0.0f;
                z.forward += so.forward_input && x_zero;
                z.backward += so.backward_input && d_zero;
                z.weight_gradient +=
                    (so.weight_gradient_input && x_zero) || (so.weight_gradient_filter && d_zero);
              }
        }
  return z;
}

void check_invariants(const arch::ArchConfig& cfg, const trace::Trace& t, const RunResult& r) {
  const double peak = double(cfg.array.pe_count()) * cfg.pe.macs_per_cycle;
  const uint64_t pes = static_cast<uint64_t>(cfg.array.pe_count());
  for (const LayerFigures& lf : r.layers) {
    const trace::Layer& l = *t.manifest().find(lf.name);
    INFO("layer " << lf.name);
    for (const auto& [phase, f] : lf.phases) {
      INFO("phase " << phase);
      testing::check_pe_cycle_sum(f.pe_cycles, f.cycles, pes);
      CHECK(f.cycles > 0);
    }
    if (l.type != trace::LayerType::Conv && l.type != trace::LayerType::Fc) {
      CHECK(lf.phases.count("forward") == 1);
      CHECK(lf.phases.at("forward").macs.issued == 0);
      continue;
    }
    const uint64_t dense = static_cast<uint64_t>(l.dense_macs());
    // The network input's gradient is not computed (features.first_layer_input_gradient).
    const bool backward = !l.inputs.empty() || cfg.features.first_layer_input_gradient;
    CHECK(lf.phases.count("backward") == (backward ? 1u : 0u));
    // Every MAC with a zero operand the config exploits is skipped (CSC), the others issued.
    const ZeroMacs zero = zero_macs(cfg, t, l);
    for (auto [phase, skipped] :
         {std::pair{"forward", zero.forward}, std::pair{"backward", zero.backward},
          std::pair{"weight_gradient", zero.weight_gradient}}) {
      INFO("phase " << phase);
      if (!lf.phases.count(phase)) continue;
      const PhaseFigures& f = lf.phases.at(phase);
      CHECK(f.macs.issued + f.macs.skipped == dense);
      CHECK(f.macs.skipped == skipped);
    }
    for (const char* phase : {"forward", "backward", "weight_gradient"}) {
      INFO("phase " << phase);
      if (!lf.phases.count(phase)) continue;
      const PhaseFigures& f = lf.phases.at(phase);
      const double utilization = double(f.macs.issued) / (double(f.cycles) * peak);
      CHECK(double(f.cycles) >= double(f.macs.issued) / peak);
      CHECK(utilization > 0.0);
      CHECK(utilization <= 1.0);
    }
    CHECK(lf.phases.count("weight_update") == 1);
  }
}

}  // namespace

TEST_CASE("tiny ResNet on the EfficientGrad config: checks pass, invariants hold", "[array]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  const arch::ArchConfig cfg = config("efficientgrad.json");
  const RunResult r = simulate(cfg, t, RunOptions{});
  REQUIRE(r.layers.size() == t.manifest().layers.size());
  check_invariants(cfg, t, r);
  // Zeros of dy are skipped somewhere.
  CHECK(r.layers.back().phases.at("backward").macs.skipped > 0);
}

TEST_CASE("tiny ResNet on the Eyeriss v2 BP baseline: activation zeros skipped, checks pass",
          "[array]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.6);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  const arch::ArchConfig cfg = config("eyeriss_v2_bp.json");
  const RunResult r = simulate(cfg, t, RunOptions{});
  check_invariants(cfg, t, r);
  // The baseline re-fetches and re-lays-out the weights for backward (conv2: conv1, fed by the
  // network input, has no backward phase).
  REQUIRE(r.layers[3].name == "conv2");
  const PhaseFigures& bw = r.layers[3].phases.at("backward");
  CHECK(bw.offchip.write_bytes[static_cast<size_t>(hw::DataClass::Weights)] > 0);
  CHECK(bw.offchip.read_bytes[static_cast<size_t>(hw::DataClass::Feedback)] == 0);
}

TEST_CASE("zero-skipping makes backward faster on a pruned trace", "[array]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.9);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  arch::ArchConfig skip = config("efficientgrad.json");
  arch::ArchConfig dense = skip;
  dense.features.sparse_operands.backward_input = false;
  dense.features.sparse_operands.weight_gradient_filter = false;
  const RunResult a = simulate(skip, t, RunOptions{});
  const RunResult b = simulate(dense, t, RunOptions{});
  const auto& conv2_a = a.layers[3].phases.at("backward");
  const auto& conv2_b = b.layers[3].phases.at("backward");
  CHECK(conv2_a.macs.issued < conv2_b.macs.issued);
  CHECK(conv2_a.pe_cycles.busy < conv2_b.pe_cycles.busy);
  // Same simulation twice: identical figures (determinism).
  const RunResult a2 = simulate(skip, t, RunOptions{});
  CHECK(report_json(a2, skip, t).dump() == report_json(a, skip, t).dump());
}

TEST_CASE("a corrupted y fails the run naming layer, phase and element", "[array]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.5);
  {
    const trace::Trace t = trace::Trace::open(dir / "trace");
    const trace::Layer& l = *t.manifest().find("conv2");
    NdArray y = t.load(l, "y");
    y.data[5] += 0.5f;
    write_npy(dir / "trace" / l.tensors.at("y"), y.shape, y.data.data());
  }
  const trace::Trace t = trace::Trace::open(dir / "trace");
  const arch::ArchConfig cfg = config("efficientgrad.json");
  REQUIRE_THROWS_WITH(simulate(cfg, t, RunOptions{}),
                      Catch::Contains("layer 'conv2' forward") && Catch::Contains("y[0,0,1,1]"));
  RunOptions no_check;
  no_check.check = false;
  CHECK_NOTHROW(simulate(cfg, t, no_check));
}

TEST_CASE("the layers option runs only the named layers", "[array]") {
  testing::TempDir dir;
  testing::write_tiny_resnet(dir / "trace", 0.5);
  const trace::Trace t = trace::Trace::open(dir / "trace");
  const arch::ArchConfig cfg = config("efficientgrad.json");
  RunOptions o;
  o.layers = {"fc", "shortcut"};
  const RunResult r = simulate(cfg, t, o);
  REQUIRE(r.layers.size() == 2);
  CHECK(r.layers[0].name == "shortcut");
  o.layers = {"nope"};
  CHECK_THROWS_WITH(simulate(cfg, t, o), Catch::Contains("no layer 'nope'"));
}
