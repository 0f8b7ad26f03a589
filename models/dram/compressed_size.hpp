#pragma once
// Bytes a sparse δ̂ tensor occupies when moved in a compressed format, so DRAM traffic falls as its
// zeros rise. Formats (their field widths are config values, see configs/dram/README.md):
//  - none: every element at value_bits.
//  - rle (Eyeriss v1 style): a stream of (run, value) pairs; run = zeros skipped before the value,
//    at most 2^run_bits - 1; a longer run emits a pair carrying an explicit zero value. Zeros after
//    the last non-zero are implicit (the tensor's length is known from its shape).
//  - csc (Eyeriss v2 style): the tensor is cut into columns of column_length elements; each column
//    stores (value, count of preceding zeros in count_bits) per non-zero (with explicit zeros when
//    a run exceeds the count field) plus one address pointer of pointer_bits.
#include <cstddef>
#include <cstdint>
#include <string>

namespace eg::dram {

enum class CompressionScheme { None, Rle, Csc };

struct CompressionFormat {
  uint64_t rle_run_bits = 0;
  uint64_t csc_count_bits = 0;
  uint64_t csc_pointer_bits = 0;
  uint64_t csc_column_length = 0;
};

CompressionScheme compression_scheme_from_string(const std::string& name);  // throws eg::Error
const char* to_string(CompressionScheme scheme);

// Bytes needed for `count` values at value_bits each under `scheme` (rounded up to whole bytes).
uint64_t compressed_bytes(const float* values, size_t count, uint64_t value_bits,
                          CompressionScheme scheme, const CompressionFormat& format);

}  // namespace eg::dram
