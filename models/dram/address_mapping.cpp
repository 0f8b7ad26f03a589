#include "models/dram/address_mapping.hpp"

namespace eg::dram {

namespace {

unsigned log2_exact(uint64_t v) {
  unsigned bits = 0;
  while ((uint64_t{1} << bits) < v) ++bits;
  return bits;
}

}  // namespace

AddressMapping::AddressMapping(const DramConfig& config)
    : order_(config.address_mapping),
      offset_bits_(log2_exact(config.burst_bytes())),
      row_bits_(log2_exact(config.rows_per_bank)),
      bank_bits_(log2_exact(config.banks)),
      column_bits_(log2_exact(config.row_bytes / config.burst_bytes())),
      capacity_(config.capacity_bytes()) {}

unsigned AddressMapping::bits_of(AddressField f) const {
  switch (f) {
    case AddressField::Row:
      return row_bits_;
    case AddressField::Bank:
      return bank_bits_;
    case AddressField::Column:
      return column_bits_;
  }
  return 0;
}

DramLocation AddressMapping::decode(uint64_t address) const {
  DramLocation loc;
  uint64_t rest = address >> offset_bits_;
  for (int i = 2; i >= 0; --i) {  // least significant field first
    unsigned bits = bits_of(order_[i]);
    uint64_t value = rest & ((uint64_t{1} << bits) - 1);
    rest >>= bits;
    switch (order_[i]) {
      case AddressField::Row:
        loc.row = value;
        break;
      case AddressField::Bank:
        loc.bank = value;
        break;
      case AddressField::Column:
        loc.column = value;
        break;
    }
  }
  return loc;
}

uint64_t AddressMapping::encode(const DramLocation& loc) const {
  uint64_t address = 0;
  for (int i = 0; i < 3; ++i) {
    unsigned bits = bits_of(order_[i]);
    uint64_t value = order_[i] == AddressField::Row    ? loc.row
                     : order_[i] == AddressField::Bank ? loc.bank
                                                       : loc.column;
    address = (address << bits) | (value & ((uint64_t{1} << bits) - 1));
  }
  return address << offset_bits_;
}

}  // namespace eg::dram
