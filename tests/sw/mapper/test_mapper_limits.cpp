// The mapper on geometry at and beyond the limits: closed-form counts agree with brute force, a
// stride far beyond the kernel costs nothing, and a schedule too large for memory is a clean error.
#include <catch2/catch.hpp>

#include <chrono>
#include <random>

#include "base/error.hpp"
#include "models/arch/arch_config.hpp"
#include "sw/mapper/row_stationary_mapper.hpp"

using namespace eg;
using namespace eg::mapper;

namespace {

arch::ArchConfig config() {
  return arch::load_arch_config(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json");
}

int64_t brute_valid_pairs(const ConvAxis& a) {
  int64_t count = 0;
  for (int64_t o = 0; o < a.out_len; ++o)
    for (int64_t t = 0; t < a.taps; ++t) count += a.in_range(a.input_index(o, t)) ? 1 : 0;
  return count;
}

}  // namespace

TEST_CASE("valid_pairs in closed form agrees with counting every pair") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> small(0, 9), positive(1, 9);
  for (int i = 0; i < 2000; ++i) {
    ConvAxis a;
    a.in_len = positive(rng);
    a.out_len = positive(rng);
    a.taps = positive(rng);
    a.out_step = positive(rng);
    a.tap_step = positive(rng);
    a.pad = small(rng);
    INFO("in " << a.in_len << " out " << a.out_len << " taps " << a.taps << " out_step "
               << a.out_step << " tap_step " << a.tap_step << " pad " << a.pad);
    CHECK(a.valid_pairs() == brute_valid_pairs(a));
  }
  // A long axis costs one step per tap, not per output.
  ConvAxis long_axis{int64_t{1} << 28, (int64_t{1} << 28) + 2, 3, 1, 1, 2};
  CHECK(long_axis.valid_pairs() == 3 * (int64_t{1} << 28));
}

TEST_CASE("backward of a stride far beyond the kernel has one problem per tap, found at once") {
  const arch::ArchConfig cfg = config();
  ConvView v;
  v.n = 1, v.c = 2, v.m = 2, v.h = v.w = 1 << 20, v.e = v.f = 1, v.r = v.s = 3;
  v.stride = int64_t{1} << 20, v.pad = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto problems = canonical_problems(v, Phase::Backward, cfg.features);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  CHECK(problems.size() == 9);  // stride phases 0..2 in each axis; the others have no taps
  for (const CanonicalProblem& p : problems) CHECK(p.rows.taps == 1);
}

TEST_CASE("a schedule with more passes than the limit is refused before it is built") {
  // 1-entry scratchpads and no psum-stationary folding: a 16384 x 16384 FC at batch 1 (its weights
  // at the trace's 2^28-element limit) needs a pass per round of six outputs and per group of three
  // input channels (the PE rows): 2731 rounds x 5462 folds.
  arch::ArchConfig cfg = config();
  cfg.pe.spad_iact_entries = cfg.pe.spad_weight_entries = cfg.pe.spad_feedback_entries = 1;
  cfg.pe.spad_psum_entries = 1;
  cfg.mapping.psum_stationary_folds = false;
  trace::Layer l;
  l.name = "fc";
  l.type = trace::LayerType::Fc;
  l.in = {1, 16384};
  l.out = {1, 16384};
  const RowStationaryMapper mapper(cfg);
  const auto problems = canonical_problems(conv_view(l), Phase::Forward, cfg.features);
  REQUIRE(problems.size() == 1);
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(mapper.map(problems[0], "layer 'fc' forward"),
                    "layer 'fc' forward: the schedule needs 14916722 passes, more than the limit "
                    "of 4194304; the layer is too large for this array (simulate a smaller batch)");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  // An eighth of the size in each direction fits, and its passes are built one at a time.
  l.in = {1, 2048};
  l.out = {1, 2048};
  const auto fits = canonical_problems(conv_view(l), Phase::Forward, cfg.features);
  const Schedule s = mapper.map(fits[0], "layer 'fc' forward");
  CHECK(s.pass_count == 342 * 683);
  const Pass last = s.pass(s.pass_count - 1);
  CHECK(last.pcs.size() == size_t(cfg.array.pc_count()));
}
