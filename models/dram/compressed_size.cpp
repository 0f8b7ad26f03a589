#include "models/dram/compressed_size.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace eg::dram {

CompressionScheme compression_scheme_from_string(const std::string& name) {
  if (name == "none") return CompressionScheme::None;
  if (name == "rle") return CompressionScheme::Rle;
  if (name == "csc") return CompressionScheme::Csc;
  throw Error("compression scheme \"" + name + "\": must be one of \"none\", \"rle\", \"csc\"");
}

const char* to_string(CompressionScheme scheme) {
  switch (scheme) {
    case CompressionScheme::None:
      return "none";
    case CompressionScheme::Rle:
      return "rle";
    case CompressionScheme::Csc:
      return "csc";
  }
  return "?";
}

namespace {

uint64_t bits_to_bytes(uint64_t bits) {
  return (bits + 7) / 8;
}

// Entries (value + run field) needed to encode values[begin, end) when a run field holds at most
// max_run zeros: one per non-zero, plus one explicit zero per max_run+1 zeros of an overlong run.
uint64_t run_length_entries(const float* values, size_t begin, size_t end, uint64_t max_run) {
  uint64_t entries = 0;
  uint64_t run = 0;
  for (size_t i = begin; i < end; ++i) {
    if (values[i] == 0.0f) {
      ++run;
      continue;
    }
    entries += run / (max_run + 1) + 1;
    run = 0;
  }
  return entries;  // trailing zeros are implicit
}

uint64_t max_field_value(uint64_t bits, const char* field) {
  if (bits == 0 || bits > 32)
    throw Error(std::string("compression format: ") + field + " must be in 1..32");
  return (uint64_t{1} << bits) - 1;
}

}  // namespace

uint64_t compressed_bytes(const float* values, size_t count, uint64_t value_bits,
                          CompressionScheme scheme, const CompressionFormat& format) {
  if (value_bits == 0) throw Error("compressed_bytes: value_bits must be >= 1");
  switch (scheme) {
    case CompressionScheme::None:
      return bits_to_bytes(count * value_bits);
    case CompressionScheme::Rle: {
      uint64_t max_run = max_field_value(format.rle_run_bits, "rle_run_bits");
      uint64_t entries = run_length_entries(values, 0, count, max_run);
      return bits_to_bytes(entries * (format.rle_run_bits + value_bits));
    }
    case CompressionScheme::Csc: {
      uint64_t max_count = max_field_value(format.csc_count_bits, "csc_count_bits");
      if (format.csc_column_length == 0)
        throw Error("compression format: csc_column_length must be >= 1");
      uint64_t bits = 0;
      for (size_t begin = 0; begin < count; begin += format.csc_column_length) {
        size_t end = std::min(count, begin + static_cast<size_t>(format.csc_column_length));
        bits += run_length_entries(values, begin, end, max_count) *
                    (format.csc_count_bits + value_bits) +
                format.csc_pointer_bits;
      }
      return bits_to_bytes(bits);
    }
  }
  return 0;
}

}  // namespace eg::dram
