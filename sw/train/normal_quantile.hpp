#pragma once

namespace eg::train {

// Inverse of the standard normal CDF, Φ⁻¹(p) for 0 < p < 1. Acklam's rational approximation
// (relative error below 1.15e-9 over the whole range) refined by one Halley step with erfc, which
// brings it to about double precision. Throws std::domain_error outside (0, 1).
double normal_quantile(double p);

// Standard normal CDF Φ(x) via erfc.
double normal_cdf(double x);

}  // namespace eg::train
