#include "hw/array/functional_check.hpp"

#include <algorithm>
#include <cmath>

namespace eg::hw::array {

CheckOutcome compare_tensors(const std::vector<float>& got, const std::vector<float>& want,
                             const arch::CheckConfig& check) {
  CheckOutcome out;
  if (got.size() != want.size()) {
    out.ok = false;
    return out;
  }
  double max_abs = 1.0;
  for (float w : want) max_abs = std::max(max_abs, static_cast<double>(std::fabs(w)));
  const double atol = check.atol * max_abs;
  double worst = -1.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    const double tol = atol + check.rtol * std::fabs(static_cast<double>(want[i]));
    const double ratio = tol > 0 ? diff / tol : (diff > 0 ? INFINITY : 0.0);
    if (ratio > worst) {
      worst = ratio;
      out.worst_index = static_cast<int64_t>(i);
      out.got = got[i];
      out.want = want[i];
      out.diff = diff;
      out.tolerance = tol;
    }
  }
  out.ok = worst <= 1.0;
  return out;
}

}  // namespace eg::hw::array
