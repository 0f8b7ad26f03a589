// The functional check's tolerance is relative to each tensor's own scale: a few-percent error in a
// tensor of gradient-sized values fails, float-ordering noise passes, and non-finite values and
// all-zero mismatches never pass.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "base/json_io.hpp"
#include "hw/array/functional_check.hpp"

using eg::hw::array::compare_tensors;

namespace {

// Gradient-sized values (~1e-4, as a trained network's dx and dw are), half of them tiny.
std::vector<float> gradients(size_t n) {
  std::mt19937 rng(3);
  std::normal_distribution<float> big(0.0f, 1e-4f), tiny(0.0f, 1e-7f);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i % 2 ? big(rng) : tiny(rng);
  return v;
}

// The tolerance the shipped configs use (both have the same check section).
eg::arch::CheckConfig shipped() {
  static const eg::arch::CheckConfig c =
      eg::arch::arch_config_from_json(
          eg::load_json_file(std::string(EGSIM_SOURCE_DIR) + "/configs/hw/efficientgrad.json"),
          "efficientgrad.json")
          .check;
  return c;
}

}  // namespace

TEST_CASE("a 3 or 1 percent error in a tensor of gradient-sized values fails the check",
          "[array][check]") {
  const std::vector<float> want = gradients(1000);
  std::vector<float> got = want;
  for (float& g : got) g *= 0.97f;
  const auto c = compare_tensors(got, want, shipped());
  CHECK_FALSE(c.ok);
  CHECK(c.relative_error == Approx(0.03).epsilon(1e-3));
  CHECK(c.diff > c.tolerance);
  CHECK(std::fabs(c.want) == Approx(c.scale));  // the worst element is the largest one
  // So does 1%.
  std::vector<float> one_percent = want;
  for (float& g : one_percent) g *= 0.99f;
  CHECK_FALSE(compare_tensors(one_percent, want, shipped()).ok);
  // One element 3% off among many right ones fails too, if it is among the largest.
  std::vector<float> one = want;
  size_t largest = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (std::fabs(want[i]) > std::fabs(want[largest])) largest = i;
  one[largest] *= 1.03f;
  const auto c1 = compare_tensors(one, want, shipped());
  CHECK_FALSE(c1.ok);
  CHECK(c1.worst_index == static_cast<int64_t>(largest));
}

TEST_CASE("float-ordering differences of a few ulps of the largest value pass the check",
          "[array][check]") {
  const std::vector<float> want = gradients(1000);
  float scale = 0;
  for (float w : want) scale = std::max(scale, std::fabs(w));
  std::vector<float> got = want;
  // Every element off by 100 ulps of the largest magnitude (1.2e-5 relative), tiny ones included:
  // relative to each small element this is huge, relative to the tensor it is noise.
  const float noise = 100 * scale * std::numeric_limits<float>::epsilon();
  for (size_t i = 0; i < got.size(); ++i) got[i] += i % 3 ? noise : -noise;
  const auto c = compare_tensors(got, want, shipped());
  CHECK(c.ok);
  CHECK(c.relative_error < 2e-5);
  CHECK(c.relative_error > 0);
}

TEST_CASE("all-zero tensors match only an all-zero result", "[array][check]") {
  const std::vector<float> zeros(64, 0.0f);
  CHECK(compare_tensors(zeros, zeros, shipped()).ok);
  CHECK(compare_tensors(zeros, zeros, shipped()).relative_error == 0);
  std::vector<float> got = zeros;
  got[5] = 1e-9f;
  const auto c = compare_tensors(got, zeros, shipped());
  CHECK_FALSE(c.ok);
  CHECK(c.worst_index == 5);
  CHECK(std::isinf(c.relative_error));
}

TEST_CASE("NaN, infinity and a size mismatch never pass the check", "[array][check]") {
  const std::vector<float> want = gradients(16);
  std::vector<float> nan = want;
  nan[3] = std::numeric_limits<float>::quiet_NaN();
  const auto c = compare_tensors(nan, want, shipped());
  CHECK_FALSE(c.ok);
  CHECK(c.worst_index == 3);
  std::vector<float> inf = want;
  inf[7] = std::numeric_limits<float>::infinity();
  CHECK_FALSE(compare_tensors(inf, want, shipped()).ok);
  CHECK_FALSE(compare_tensors(want, inf, shipped()).ok);  // a trace with an infinity
  CHECK_FALSE(compare_tensors(std::vector<float>(15), want, shipped()).ok);
}
