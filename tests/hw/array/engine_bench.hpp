#pragma once
// What the array-engine test benches share: an idealised clock and off-chip memory (10 cycles plus
// one per 16 bytes a transfer, no SystemC kernel) and random operands with a chosen zero fraction.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "hw/array/sim_clock.hpp"
#include "hw/memory_port.hpp"

namespace eg::testing {

struct FakeClock : hw::array::SimClock {
  uint64_t now = 0;
  uint64_t now_cycles() const override { return now; }
  void wait_until(uint64_t c) override { now = std::max(now, c); }
};

struct FakeMemory : hw::MemoryPort {
  FakeClock& clock;
  uint64_t bytes = 0;
  explicit FakeMemory(FakeClock& c) : clock(c) {}
  void transfer(const hw::MemoryRequest& r) override {
    bytes += r.bytes;
    clock.now += 10 + r.bytes / 16;
  }
};

inline std::vector<float> random_operand(size_t n, std::mt19937& rng, double zero_fraction = 0) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::bernoulli_distribution z(zero_fraction);
  std::vector<float> v(n);
  for (float& x : v) x = z(rng) ? 0.0f : u(rng);
  return v;
}

}  // namespace eg::testing
