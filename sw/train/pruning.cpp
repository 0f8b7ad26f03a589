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

namespace {

// δ̂ for one element with draw u (docs/DESIGN.md §1.3); branch-free so that the loops vectorise.
inline float prune_value(float v, float u, float tau) {
  const float a = std::fabs(v);
  const float kept = (a >= u * tau && a > 0.0f) ? std::copysign(tau, v) : 0.0f;
  return a > tau ? v : kept;
}

// Shared by both overloads: σ̂ and τ, then `apply(tau, rng)` prunes in place.
template <typename Apply>
PruneResult prune_with(float* d, int64_t n, double pruning_rate, SigmaEstimator estimator,
                       uint64_t key, bool measure_nonzero, Apply apply) {
  PruneResult r;
  if (measure_nonzero) r.nonzero_before = nonzero_fraction(d, n);
  r.nonzero_after = r.nonzero_before;
  if (pruning_rate <= 0.0 || n <= 0) return r;
  if (pruning_rate >= 1.0) throw std::invalid_argument("pruning rate must be below 1");
  r.sigma = estimate_sigma(d, n, estimator);
  r.tau = normal_quantile((1.0 + pruning_rate) / 2.0) * r.sigma;
  apply(static_cast<float>(r.tau), CounterRng(key));
  r.nonzero_after = measure_nonzero ? nonzero_fraction(d, n) : r.nonzero_before;
  return r;
}

}  // namespace

PruneResult stochastic_prune(float* d, int64_t n, double pruning_rate, SigmaEstimator estimator,
                             uint64_t key, bool measure_nonzero) {
  return prune_with(d, n, pruning_rate, estimator, key, measure_nonzero,
                    [d, n](float tau, CounterRng rng) {
                      // A draw for every element (also those above τ, which ignore it): the
                      // loop vectorises, which pays far more than the draws it wastes.
                      parallel_for(
                          n,
                          [d, tau, rng](int64_t b, int64_t e) {
                            for (int64_t i = b; i < e; ++i)
                              d[i] = prune_value(d[i], rng.uniform_single_mix(uint64_t(i)), tau);
                          },
                          4096);
                    });
}

PruneResult stochastic_prune(Tensor& t, double pruning_rate, SigmaEstimator estimator, uint64_t key,
                             bool measure_nonzero) {
  if (t.layout == Layout::Nchw)
    return stochastic_prune(t.ptr(), t.size(), pruning_rate, estimator, key, measure_nonzero);
  float* d = t.ptr();
  const int64_t n = t.dim(0), c = t.dim(1), hw = t.dim(2) * t.dim(3);
  const int64_t cb = c / kChannelBlock;
  return prune_with(
      d, t.size(), pruning_rate, estimator, key, measure_nonzero, [=](float tau, CounterRng rng) {
        parallel_for(n * cb, [=](int64_t b, int64_t e) {
          for (int64_t blk = b; blk < e; ++blk) {
            // Lane l of pixel px in block (ni, bi) is channel 16·bi + l of image ni.
            const int64_t first = ((blk / cb) * c + (blk % cb) * kChannelBlock) * hw;
            float* p = d + blk * hw * kChannelBlock;
            for (int64_t px = 0; px < hw; ++px)
              for (int64_t l = 0; l < kChannelBlock; ++l) {
                const uint64_t logical = static_cast<uint64_t>(first + l * hw + px);
                p[px * kChannelBlock + l] =
                    prune_value(p[px * kChannelBlock + l], rng.uniform_single_mix(logical), tau);
              }
          }
        });
      });
}

}  // namespace eg::train
