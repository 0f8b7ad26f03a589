#pragma once
// EfficientGrad's stochastic pruning of an error gradient (docs/DESIGN.md §1.3):
//   τ = Φ⁻¹((1+P)/2) · σ̂;  δ̂ = δ if |δ| > τ;  τ·sign(δ) if τ ≥ |δ| ≥ r·τ (r ~ U[0,1));  0
//   otherwise.
// E[δ̂] = δ element-wise. The draws r come from a counter-based stream keyed per layer and
// mini-batch, so they do not depend on the thread count.
#include <cstdint>
#include <string>

#include "sw/train/tensor.hpp"

namespace eg::train {

enum class SigmaEstimator { MeanAbs, Std, MeanAbsScaled };
SigmaEstimator sigma_estimator_from_string(
    const std::string& text);  // throws std::invalid_argument
std::string to_string(SigmaEstimator estimator);

// σ̂ of n values: mean|δ| (reference code), population std, or √(π/2)·mean|δ|. Each fixed-size
// chunk is summed in 16 float lanes and the chunk sums are added in order in double, so the
// result does not depend on the thread count.
double estimate_sigma(const float* d, int64_t n, SigmaEstimator estimator);

struct PruneResult {
  double sigma = 0.0;
  double tau = 0.0;  // 0 when nothing was pruned (P = 0)
  double nonzero_before = 1.0;
  double nonzero_after = 1.0;
};

double nonzero_fraction(const float* d, int64_t n);

// Prunes d in place. P = 0 leaves d untouched (τ = 0). The non-zero fractions cost two extra
// passes over d; with measure_nonzero false they are left at 1 (training iterations whose
// statistics nobody reads).
PruneResult stochastic_prune(float* d, int64_t n, double pruning_rate, SigmaEstimator estimator,
                             uint64_t key, bool measure_nonzero = true);
// The same for a tensor in either layout: each element's draw is keyed by its logical NCHW
// index, so the pruned values do not depend on the order the tensor is kept in.
PruneResult stochastic_prune(Tensor& d, double pruning_rate, SigmaEstimator estimator, uint64_t key,
                             bool measure_nonzero = true);

}  // namespace eg::train
