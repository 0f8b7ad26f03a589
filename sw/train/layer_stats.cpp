#include "sw/train/layer_stats.hpp"

#include <algorithm>
#include <cmath>

#include "sw/train/pruning.hpp"

namespace eg::train {

double angle_deg(const float* a, const float* b, int64_t n) {
  // Sequential double sums: called only on stats iterations, and thread-count independent.
  double ab = 0.0, aa = 0.0, bb = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  if (aa == 0.0 || bb == 0.0) return (aa == bb) ? 0.0 : 90.0;
  const double c = std::clamp(ab / std::sqrt(aa * bb), -1.0, 1.0);
  return std::acos(c) * 180.0 / M_PI;
}

Histogram histogram_in_std(const float* d, int64_t n, int bins, double range_std) {
  Histogram h;
  h.range_std = range_std;
  h.counts.assign(static_cast<size_t>(std::max(1, bins)), 0);
  h.std = estimate_sigma(d, n, SigmaEstimator::Std);
  if (h.std <= 0.0) {
    if (n > 0) h.counts[h.counts.size() / 2] += n;
    return h;
  }
  const double lo = -range_std * h.std, width = 2.0 * range_std * h.std / h.counts.size();
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = static_cast<int64_t>(std::floor((d[i] - lo) / width));
    k = std::clamp<int64_t>(k, 0, static_cast<int64_t>(h.counts.size()) - 1);
    ++h.counts[k];
  }
  return h;
}

}  // namespace eg::train
