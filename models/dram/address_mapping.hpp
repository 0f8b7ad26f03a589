#pragma once
// Splits a byte address into (row, bank, column) by the configured bit order. The lowest
// log2(burst bytes) bits select the byte within a burst; the fields above them follow the config's
// order, most significant first (e.g. row/bank/column: consecutive bursts fill a row, then move to
// the next bank, so streaming keeps the other banks' rows opening in the background).
#include <array>
#include <cstdint>

#include "models/dram/dram_config.hpp"

namespace eg::dram {

struct DramLocation {
  uint64_t row = 0;
  uint64_t bank = 0;
  uint64_t column = 0;  // burst index within the row
};

class AddressMapping {
 public:
  explicit AddressMapping(const DramConfig& config);
  // Precondition: address < capacity.
  DramLocation decode(uint64_t address) const;
  uint64_t encode(const DramLocation& location) const;
  uint64_t capacity_bytes() const { return capacity_; }
  uint64_t burst_bytes() const { return uint64_t{1} << offset_bits_; }

 private:
  std::array<AddressField, 3> order_;
  unsigned offset_bits_ = 0;
  unsigned row_bits_ = 0, bank_bits_ = 0, column_bits_ = 0;
  uint64_t capacity_ = 0;
  unsigned bits_of(AddressField f) const;
};

}  // namespace eg::dram
