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
constexpr int kLanes = 16;           // one AVX-512 register of floats

// Sums term(p[i]) over n values: each chunk in kLanes float accumulators (a loop the compiler
// vectorises; within a 16 K chunk each lane adds only 1 K terms, so float keeps ~4 significant
// digits more than σ̂ needs), the chunks in double and in order.
template <typename F>
double chunked_sum(const float* p, int64_t n, F term) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  double* out = partial.data();
  parallel_for(chunks, [p, n, term, out](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      float acc[kLanes] = {};
      const int64_t begin = c * kChunk, end = std::min(n, begin + kChunk);
      int64_t i = begin;
      for (; i + kLanes <= end; i += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] += term(p[i + l]);
      double s = 0.0;
      for (; i < end; ++i) s += term(p[i]);
      for (int l = 0; l < kLanes; ++l) s += acc[l];
      out[c] = s;
    }
  });
  double total = 0.0;
  for (double v : partial) total += v;
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
    const double mean = chunked_sum(d, n, [](float v) { return v; }) / double(n);
    const float m = static_cast<float>(mean);
    const double var = chunked_sum(d, n, [m](float v) { return (v - m) * (v - m); }) / double(n);
    return std::sqrt(var);
  }
  const double mean_abs = chunked_sum(d, n, [](float v) { return std::fabs(v); }) / double(n);
  // For a zero-mean Gaussian, E|δ| = σ·√(2/π); scaling by √(π/2) makes mean|δ| estimate σ.
  return estimator == SigmaEstimator::MeanAbsScaled ? mean_abs * std::sqrt(M_PI / 2.0) : mean_abs;
}

double nonzero_fraction(const float* d, int64_t n) {
  if (n <= 0) return 0.0;
  return chunked_sum(d, n, [](float v) { return v != 0.0f ? 1.0f : 0.0f; }) / double(n);
}

PruneResult stochastic_prune(float* d, int64_t n, double pruning_rate, SigmaEstimator estimator,
                             uint64_t key, bool measure_nonzero) {
  PruneResult r;
  if (measure_nonzero) r.nonzero_before = nonzero_fraction(d, n);
  r.nonzero_after = r.nonzero_before;
  if (pruning_rate <= 0.0 || n <= 0) return r;
  if (pruning_rate >= 1.0) throw std::invalid_argument("pruning rate must be below 1");
  r.sigma = estimate_sigma(d, n, estimator);
  r.tau = normal_quantile((1.0 + pruning_rate) / 2.0) * r.sigma;
  const float tau = static_cast<float>(r.tau);
  const CounterRng rng(key);
  // Branch-free, with a draw for every element (also those above τ, which ignore it): the loop
  // vectorises, which pays far more than the ~10% of draws it wastes at P = 0.9.
  parallel_for(
      n,
      [d, tau, rng](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const float v = d[i], a = std::fabs(v);
          const float u = rng.uniform_single_mix(static_cast<uint64_t>(i));
          const float kept = (a >= u * tau && a > 0.0f) ? std::copysign(tau, v) : 0.0f;
          d[i] = a > tau ? v : kept;
        }
      },
      4096);
  r.nonzero_after = measure_nonzero ? nonzero_fraction(d, n) : r.nonzero_before;
  return r;
}

}  // namespace eg::train
