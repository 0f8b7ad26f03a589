#include "sw/train/pruning.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "sw/train/normal_quantile.hpp"
#include "sw/train/parallel.hpp"
#include "sw/train/random.hpp"

namespace eg::train {
namespace {

constexpr int64_t kChunk = 1 << 14;  // fixed reduction chunk: thread-count independent sums

template <typename F>
double chunked_sum(int64_t n, F term) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  parallel_for(chunks, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double s = 0.0;
      const int64_t end = std::min(n, (c + 1) * kChunk);
      for (int64_t i = c * kChunk; i < end; ++i) s += term(i);
      partial[c] = s;
    }
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace

SigmaEstimator sigma_estimator_from_string(const std::string& text) {
  if (text == "mean_abs") return SigmaEstimator::MeanAbs;
  if (text == "std") return SigmaEstimator::Std;
  if (text == "mean_abs_scaled") return SigmaEstimator::MeanAbsScaled;
  throw std::invalid_argument("unknown sigma estimator '" + text +
                              "' (expected mean_abs, std or mean_abs_scaled)");
}

std::string to_string(SigmaEstimator estimator) {
  switch (estimator) {
    case SigmaEstimator::MeanAbs:
      return "mean_abs";
    case SigmaEstimator::Std:
      return "std";
    case SigmaEstimator::MeanAbsScaled:
      return "mean_abs_scaled";
  }
  return "?";
}

double estimate_sigma(const float* d, int64_t n, SigmaEstimator estimator) {
  if (n <= 0) return 0.0;
  if (estimator == SigmaEstimator::Std) {
    const double mean = chunked_sum(n, [&](int64_t i) { return double(d[i]); }) / double(n);
    const double var =
        chunked_sum(n, [&](int64_t i) { return (d[i] - mean) * (d[i] - mean); }) / double(n);
    return std::sqrt(var);
  }
  const double mean_abs = chunked_sum(n, [&](int64_t i) { return std::fabs(double(d[i])); }) / n;
  // For a zero-mean Gaussian, E|δ| = σ·√(2/π); scaling by √(π/2) makes mean|δ| estimate σ.
  return estimator == SigmaEstimator::MeanAbsScaled ? mean_abs * std::sqrt(M_PI / 2.0) : mean_abs;
}

double nonzero_fraction(const float* d, int64_t n) {
  if (n <= 0) return 0.0;
  return chunked_sum(n, [&](int64_t i) { return d[i] != 0.0f ? 1.0 : 0.0; }) / double(n);
}

PruneResult stochastic_prune(float* d, int64_t n, double pruning_rate, SigmaEstimator estimator,
                             uint64_t key) {
  PruneResult r;
  r.nonzero_before = nonzero_fraction(d, n);
  r.nonzero_after = r.nonzero_before;
  if (pruning_rate <= 0.0 || n <= 0) return r;
  if (pruning_rate >= 1.0) throw std::invalid_argument("pruning rate must be below 1");
  r.sigma = estimate_sigma(d, n, estimator);
  r.tau = normal_quantile((1.0 + pruning_rate) / 2.0) * r.sigma;
  const float tau = static_cast<float>(r.tau);
  const CounterRng rng(key);
  parallel_for(
      n,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const float a = std::fabs(d[i]);
          if (a > tau) continue;
          const float u = rng.uniform(static_cast<uint64_t>(i));
          d[i] = (a >= u * tau && a > 0.0f) ? std::copysign(tau, d[i]) : 0.0f;
        }
      },
      4096);
  r.nonzero_after = nonzero_fraction(d, n);
  return r;
}

}  // namespace eg::train
