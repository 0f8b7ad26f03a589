#pragma once
// Compares a tensor the array computed with the trace's. The tolerance is one number per tensor,
// relative to that tensor's own scale:
//   |got[i] - want[i]| <= rtol * max_j |want[j]| + atol   for every element i.
// Relative to the largest magnitude, not to each element: float sums of hundreds of products taken
// in another order differ by a few ulps of the largest partial sums, so a small (or cancelled)
// element may differ by far more than its own ulps. Relative to the tensor, not to 1: gradients are
// ~1e-4 in size, and an absolute floor would hide a whole-tensor error of several percent. atol
// only matters for a tensor that is (almost) all zero. Non-finite values never pass.
#include <cstdint>
#include <string>
#include <vector>

#include "models/arch/arch_config.hpp"

namespace eg::hw::array {

struct CheckOutcome {
  bool ok = true;
  int64_t worst_index = -1;  // element with the largest |diff| (-1: sizes differ or empty)
  float got = 0, want = 0;
  double diff = 0;       // |got - want| at worst_index (infinite when a value is not finite)
  double scale = 0;      // max |want|
  double tolerance = 0;  // rtol * scale + atol
  // diff / scale: what rtol must at least be for this tensor to pass (infinite when scale is 0
  // and diff is not). The figure the shipped rtol was chosen from.
  double relative_error = 0;
};

CheckOutcome compare_tensors(const std::vector<float>& got, const std::vector<float>& want,
                             const arch::CheckConfig& check);

}  // namespace eg::hw::array
