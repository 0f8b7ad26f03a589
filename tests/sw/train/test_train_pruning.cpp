// Stochastic pruning: unbiasedness, the τ floor, zero fraction vs the closed form for each σ̂
// estimator, P = 0 identity, thread-count independence; and the inverse normal CDF.
#include <catch2/catch.hpp>

#include <cmath>

#include "sw/train/normal_quantile.hpp"
#include "sw/train/parallel.hpp"
#include "sw/train/pruning.hpp"
#include "sw/train/random.hpp"

using namespace eg::train;

namespace {

std::vector<float> gaussian(int64_t n, double s, uint64_t key) {
  std::vector<float> v(static_cast<size_t>(n));
  const CounterRng rng(key);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(s * rng.normal(i));
  return v;
}

// Expected zero fraction for δ ~ N(0, s²) and threshold τ = t·s:
// P(|δ| < τ) − E[|δ|/τ; |δ| < τ] = (2Φ(t) − 1) − (2/(t√(2π)))(1 − e^{−t²/2}).
double closed_form_zero_fraction(double t) {
  return (2.0 * normal_cdf(t) - 1.0) -
         2.0 / (t * std::sqrt(2.0 * M_PI)) * (1.0 - std::exp(-t * t / 2));
}

}  // namespace

TEST_CASE("normal quantile inverts the normal CDF", "[train][pruning]") {
  CHECK(normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-12));
  CHECK(normal_quantile(0.5) == Approx(0.0).margin(1e-15));
  CHECK(normal_quantile(0.95) == Approx(1.6448536269514722).epsilon(1e-12));
  for (double p : {1e-10, 1e-4, 0.01, 0.02425, 0.3, 0.7, 0.97575, 0.999, 1 - 1e-9})
    CHECK(normal_cdf(normal_quantile(p)) == Approx(p).epsilon(1e-9));
  CHECK_THROWS(normal_quantile(1.0));
}

TEST_CASE("P = 0 leaves the gradient untouched", "[train][pruning]") {
  std::vector<float> d = gaussian(1000, 0.01, 1);
  const std::vector<float> d0 = d;
  const PruneResult r = stochastic_prune(d.data(), 1000, 0.0, SigmaEstimator::MeanAbs, 5);
  CHECK(d == d0);
  CHECK(r.tau == 0.0);
  CHECK(r.nonzero_after == r.nonzero_before);
}

TEST_CASE("pruning is unbiased and every non-zero value is at least tau", "[train][pruning]") {
  const int64_t n = 256;
  const std::vector<float> d0 = gaussian(n, 0.02, 2);
  const int draws = 4000;
  std::vector<double> sum(n, 0.0);
  double tau = 0.0;
  for (int k = 0; k < draws; ++k) {
    std::vector<float> d = d0;
    const PruneResult r = stochastic_prune(d.data(), n, 0.9, SigmaEstimator::MeanAbs, 100 + k);
    tau = r.tau;
    for (int64_t i = 0; i < n; ++i) {
      sum[i] += d[i];
      if (d[i] != 0.0f) {
        REQUIRE(std::fabs(d[i]) >= static_cast<float>(r.tau));
        REQUIRE(std::signbit(d[i]) == std::signbit(d0[i]));
      }
      if (std::fabs(d0[i]) > r.tau) REQUIRE(d[i] == d0[i]);
    }
  }
  REQUIRE(tau > 0.0);
  // Each pruned element is τ·Bernoulli(|δ|/τ): std of the mean ≤ τ/(2√draws). 6 std over 256
  // elements makes a false failure vanishingly unlikely.
  const double bound = 6.0 * tau / (2.0 * std::sqrt(double(draws)));
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(sum[i] / draws - d0[i]));
  CHECK(worst < bound);
}

TEST_CASE("zero fraction on Gaussian input matches the closed form for each estimator",
          "[train][pruning]") {
  const int64_t n = 1 << 20;
  const double s = 0.05;
  for (SigmaEstimator e :
       {SigmaEstimator::MeanAbs, SigmaEstimator::Std, SigmaEstimator::MeanAbsScaled}) {
    for (double p : {0.5, 0.9, 0.99}) {
      std::vector<float> d = gaussian(n, s, 3);
      const PruneResult r = stochastic_prune(d.data(), n, p, e, 11);
      const double z = normal_quantile((1 + p) / 2);
      // σ̂ of each estimator for N(0, s²): mean|δ| = s√(2/π); std and scaled mean|δ| = s.
      const double sigma = e == SigmaEstimator::MeanAbs ? s * std::sqrt(2 / M_PI) : s;
      INFO("estimator " << to_string(e) << " P " << p);
      CHECK(r.tau == Approx(z * sigma).epsilon(5e-3));
      const double q = closed_form_zero_fraction(z * sigma / s);
      const double zero = 1.0 - r.nonzero_after;
      CHECK(std::fabs(zero - q) < 5.0 * std::sqrt(q * (1 - q) / n) + 2e-3 * q);
    }
  }
}

TEST_CASE("pruning draws do not depend on the thread count", "[train][pruning]") {
  std::vector<float> a = gaussian(100000, 1.0, 4), b = a;
  set_thread_count(1);
  stochastic_prune(a.data(), 100000, 0.8, SigmaEstimator::Std, 9);
  set_thread_count(2);
  stochastic_prune(b.data(), 100000, 0.8, SigmaEstimator::Std, 9);
  CHECK(a == b);
  std::vector<float> c = gaussian(100000, 1.0, 4);
  stochastic_prune(c.data(), 100000, 0.8, SigmaEstimator::Std, 10);
  CHECK(c != a);
}
