#pragma once
// The bytes `entries` values of `bits` bits each take packed back to back, rounded up to whole
// bytes: the size of every tensor the array, the PPU and the DMA move (widths need not be
// multiples of 8: PSG's signs are 1 bit, its predictor operands 4 and 10).
#include <cstdint>

namespace eg::hw::array {

inline uint64_t bytes_of(uint64_t entries, int bits) {
  return (entries * static_cast<uint64_t>(bits) + 7) / 8;
}

}  // namespace eg::hw::array
