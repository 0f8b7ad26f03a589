#pragma once
// Compares a tensor the array computed with the trace's: element i passes when
// |got - want| <= atol * max(1, max|want|) + rtol * |want|. atol is scaled by the tensor's largest
// magnitude because float sums of hundreds of products in a different order differ by a few ulps
// of the largest partial sum, not of each element.
#include <cstdint>
#include <string>
#include <vector>

#include "models/arch/arch_config.hpp"

namespace eg::hw::array {

struct CheckOutcome {
  bool ok = true;
  int64_t worst_index = -1;  // element with the largest |diff| / tolerance
  float got = 0, want = 0;
  double diff = 0, tolerance = 0;
};

CheckOutcome compare_tensors(const std::vector<float>& got, const std::vector<float>& want,
                             const arch::CheckConfig& check);

}  // namespace eg::hw::array
