#pragma once
// Random numbers without hidden state: every draw is a hash of (key, index), so a draw does not
// depend on the thread that makes it or on how many draws came before, and checkpoints need no
// generator state. SplitMix64's finaliser (Steele et al., OOPSLA 2014) is the mixing function.
#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace eg::train {

inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Derives a stream key from a list of integers (seed, purpose, epoch, layer, ...).
inline uint64_t stream_key(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x243F6A8885A308D3ull;
  for (uint64_t p : parts) h = mix64(h ^ mix64(p));
  return h;
}

// Purposes, so that streams for different uses never coincide.
enum class Stream : uint64_t {
  WeightInit = 1,
  Feedback = 2,
  Pruning = 3,
  Shuffle = 4,
  Augment = 5,
  Synthetic = 6,
  MiniBatchDrop = 7  // stochastic mini-batch dropping (smd.hpp)
};

class CounterRng {
 public:
  explicit CounterRng(uint64_t key) : key_(key) {}
  uint64_t bits(uint64_t i) const { return mix64(key_ ^ mix64(i)); }
  // Uniform in [0, 1) with 24 random bits (exactly representable as float).
  float uniform(uint64_t i) const { return static_cast<float>(bits(i) >> 40) * 0x1.0p-24f; }
  // Uniform in [0, 1) with 24 bits from a single mix of key + i·γ (SplitMix64's own output
  // function on its own state sequence): half the work of uniform(), for the per-element draws
  // of pruning, where it is the cost that matters. Distinct keys overlap only if they differ by
  // fewer than n multiples of γ (probability ~n/2^64).
  float uniform_single_mix(uint64_t i) const {
    return static_cast<float>(mix64(key_ + i * 0x9E3779B97F4A7C15ull) >> 40) * 0x1.0p-24f;
  }
  // Uniform in (0, 1] with 53 bits.
  double uniform_open0(uint64_t i) const {
    return (static_cast<double>(bits(i) >> 11) + 1.0) * 0x1.0p-53;
  }
  // Standard normal via Box-Muller on draws 2i and 2i+1.
  double normal(uint64_t i) const {
    const double u1 = uniform_open0(2 * i), u2 = uniform_open0(2 * i + 1);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Uniform integer in [0, n) (Lemire's multiply-shift; bias < n / 2^64).
  uint64_t below(uint64_t i, uint64_t n) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(bits(i)) * n) >> 64);
  }

 private:
  uint64_t key_;
};

}  // namespace eg::train
