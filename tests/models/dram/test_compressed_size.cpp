// Compressed size of sparse δ̂: falls as zeros rise; "none" is exactly the dense size.
#include <catch2/catch.hpp>

#include <vector>

#include "models/dram/compressed_size.hpp"

using eg::dram::CompressionScheme;

namespace {

const eg::dram::CompressionFormat kFormat{5, 4, 16, 64};

// n values of which a fraction `zeros` are zero, spread deterministically.
std::vector<float> with_zeros(size_t n, double zeros) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    double phase = (i * 0.6180339887) - static_cast<long>(i * 0.6180339887);
    v[i] = phase < zeros ? 0.0f : 0.5f + static_cast<float>(i % 7);
  }
  return v;
}

}  // namespace

TEST_CASE("scheme none is the dense size and nothing more") {
  auto v = with_zeros(1000, 0.9);
  CHECK(eg::dram::compressed_bytes(v.data(), v.size(), 16, CompressionScheme::None, kFormat) ==
        2000);
  CHECK(eg::dram::compressed_bytes(v.data(), 3, 8, CompressionScheme::None, kFormat) == 3);
  CHECK(eg::dram::compressed_bytes(v.data(), 3, 12, CompressionScheme::None, kFormat) == 5);
}

TEST_CASE("compressed size falls as the zero fraction rises") {
  for (auto scheme : {CompressionScheme::Rle, CompressionScheme::Csc}) {
    uint64_t previous = ~uint64_t{0};
    for (double zeros : {0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99}) {
      auto v = with_zeros(4096, zeros);
      uint64_t bytes = eg::dram::compressed_bytes(v.data(), v.size(), 16, scheme, kFormat);
      INFO(eg::dram::to_string(scheme) << " zeros " << zeros << " bytes " << bytes);
      CHECK(bytes < previous);
      previous = bytes;
    }
    auto sparse = with_zeros(4096, 0.9);
    CHECK(eg::dram::compressed_bytes(sparse.data(), sparse.size(), 16, scheme, kFormat) <
          eg::dram::compressed_bytes(sparse.data(), sparse.size(), 16, CompressionScheme::None,
                                     kFormat));
  }
}

TEST_CASE("run-length and CSC sizes follow their formats exactly") {
  // 3 non-zeros, runs 0, 2, 40 (40 > 31 needs one explicit zero with 5-bit runs), trailing zeros.
  std::vector<float> v(50, 0.0f);
  v[0] = 1;
  v[3] = 2;
  v[44] = 3;
  // RLE: 4 entries x (5 + 16) bits = 84 bits -> 11 bytes.
  CHECK(eg::dram::compressed_bytes(v.data(), v.size(), 16, CompressionScheme::Rle, kFormat) == 11);
  // CSC with 64-element columns: one column; counts of 4 bits hold runs up to 15, so the run of 40
  // needs 2 explicit zeros: 5 entries x 20 bits + 16-bit pointer = 116 bits -> 15 bytes.
  CHECK(eg::dram::compressed_bytes(v.data(), v.size(), 16, CompressionScheme::Csc, kFormat) == 15);
  // Dense data costs more than "none" under RLE: the run fields are pure overhead.
  std::vector<float> dense(100, 1.0f);
  CHECK(eg::dram::compressed_bytes(dense.data(), dense.size(), 16, CompressionScheme::Rle,
                                   kFormat) == (100 * 21 + 7) / 8);
}

TEST_CASE("scheme names parse strictly") {
  CHECK(eg::dram::compression_scheme_from_string("csc") == CompressionScheme::Csc);
  CHECK_THROWS_WITH(eg::dram::compression_scheme_from_string("huffman"),
                    Catch::Matchers::Contains("must be one of"));
}
