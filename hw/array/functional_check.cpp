#include "hw/array/functional_check.hpp"

#include <cmath>
#include <limits>

namespace eg::hw::array {

CheckOutcome compare_tensors(const std::vector<float>& got, const std::vector<float>& want,
                             const arch::CheckConfig& check) {
  CheckOutcome out;
  if (got.size() != want.size()) {
    out.ok = false;
    out.diff = out.relative_error = std::numeric_limits<double>::infinity();
    return out;
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double scale = 0.0;
  for (float w : want) {
    const double a = std::fabs(static_cast<double>(w));
    // A non-finite trace value makes the scale infinite; the element itself fails below.
    if (!(a <= scale)) scale = std::isfinite(a) ? a : kInf;
  }
  out.scale = scale;
  out.tolerance = check.rtol * scale + check.atol;
  double worst = -1.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    const double diff = std::isfinite(g) && std::isfinite(w) ? std::fabs(g - w) : kInf;
    if (diff > worst) {
      worst = diff;
      out.worst_index = static_cast<int64_t>(i);
      out.got = got[i];
      out.want = want[i];
      out.diff = diff;
    }
  }
  if (worst < 0) return out;  // empty tensors agree
  out.relative_error = out.diff == 0 ? 0.0 : scale > 0 ? out.diff / scale : kInf;
  out.ok = std::isfinite(out.diff) && out.diff <= out.tolerance;
  return out;
}

}  // namespace eg::hw::array
