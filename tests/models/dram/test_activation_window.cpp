// tRRD / tFAW placement of ACTs (models/dram/activation_window), by hand and against a brute-force
// check of every gap and every run of five ACTs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "models/dram/activation_window.hpp"

using eg::dram::ActivationWindow;

namespace {

// Whether an ACT at t keeps tRRD to every ACT and tFAW over every five consecutive ACTs.
bool allowed(std::vector<uint64_t> acts, uint64_t t, uint64_t rrd, uint64_t faw) {
  acts.push_back(t);
  std::sort(acts.begin(), acts.end());
  for (size_t i = 1; i < acts.size(); ++i)
    if (acts[i] - acts[i - 1] < rrd) return false;
  for (size_t i = 4; i < acts.size(); ++i)
    if (acts[i] - acts[i - 4] < faw) return false;
  return true;
}

}  // namespace

TEST_CASE("back-to-back ACTs are tRRD apart and the fifth waits for the tFAW window") {
  // LPDDR4-3200 in clocks: tRRD 16, tFAW 64. Four tRRD steps already fill tFAW, so the fifth ACT
  // lands at 4 x 16 = 64 either way.
  ActivationWindow jedec(16, 64);
  std::vector<uint64_t> got;
  for (int i = 0; i < 5; ++i) {
    got.push_back(jedec.earliest(0));
    jedec.place(got.back());
  }
  CHECK(got == std::vector<uint64_t>{0, 16, 32, 48, 64});
  // With tRRD 8 the first four fit in 0..24 and the fifth must wait until the first ACT's tFAW
  // window closes: 0 + 64.
  ActivationWindow fast(8, 64);
  got.clear();
  for (int i = 0; i < 6; ++i) {
    got.push_back(fast.earliest(0));
    fast.place(got.back());
  }
  CHECK(got == std::vector<uint64_t>{0, 8, 16, 24, 64, 72});
}

TEST_CASE("an ACT may be fitted before ACTs already placed when the limits allow it") {
  ActivationWindow w(8, 64);
  w.place(100);
  CHECK(w.earliest(0) == 0);     // far before: no limit
  CHECK(w.earliest(95) == 108);  // within tRRD of 100: after it
  CHECK(w.earliest(92) == 92);   // exactly tRRD before 100
  ActivationWindow runs(8, 64);
  for (uint64_t a : {40, 48, 56, 64}) runs.place(a);
  // At 0 the run 0, 40, 48, 56, 64 spans exactly tFAW: allowed.
  CHECK(runs.earliest(0) == 0);
  // At 8 that run spans 56 < 64, and no slot between the placed ACTs fits either; after 64 the
  // run 40..64 plus t needs t >= 40 + 64.
  CHECK(runs.earliest(8) == 104);
}

TEST_CASE("placement matches a brute-force search over random ACT patterns") {
  std::mt19937_64 rng(20240611);
  for (int trial = 0; trial < 40; ++trial) {
    const uint64_t rrd = 1 + rng() % 20;
    const uint64_t faw = rrd + rng() % 80;
    ActivationWindow w(rrd, faw);
    std::vector<uint64_t> all;
    uint64_t lowest = 0;
    for (int i = 0; i < 60; ++i) {
      lowest += rng() % 12;
      w.forget_before(lowest);
      const uint64_t candidate = lowest + rng() % 150;  // may fall before ACTs already placed
      const uint64_t t = w.earliest(candidate);
      INFO("trial " << trial << " tRRD " << rrd << " tFAW " << faw << " candidate " << candidate);
      REQUIRE(t >= candidate);
      REQUIRE(allowed(all, t, rrd, faw));
      for (uint64_t earlier = candidate; earlier < t; ++earlier)
        REQUIRE_FALSE(allowed(all, earlier, rrd, faw));
      w.place(t);
      all.push_back(t);
    }
    CHECK(w.size() < all.size());  // old ACTs were forgotten without changing any answer
  }
}
