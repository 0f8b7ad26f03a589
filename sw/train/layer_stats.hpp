#pragma once
// Per-layer error-gradient statistics (paper Fig. 3): angle between two gradients, and a
// histogram of δ in units of its standard deviation.
#include <cstdint>
#include <vector>

namespace eg::train {

// Angle in degrees between vectors a and b (0 when either is all-zero and both are equal).
double angle_deg(const float* a, const float* b, int64_t n);

struct Histogram {
  double std = 0.0;  // of the values; the bins span [-range_std·std, +range_std·std]
  double range_std = 0.0;
  std::vector<int64_t> counts;  // values outside the range fall into the edge bins
};
Histogram histogram_in_std(const float* d, int64_t n, int bins, double range_std);

}  // namespace eg::train
