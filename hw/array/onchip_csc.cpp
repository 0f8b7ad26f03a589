#include "hw/array/onchip_csc.hpp"

#include <algorithm>

namespace eg::hw::array {

namespace {
int64_t ceil_div(uint64_t n, uint64_t d) {
  return static_cast<int64_t>((n + d - 1) / d);
}
}  // namespace

int64_t CscSize::link_cycles(const CscFormat& f, int link_bits) const {
  const uint64_t link = static_cast<uint64_t>(std::max(1, link_bits));
  const uint64_t per_entry =
      std::max<uint64_t>(1, link / static_cast<uint64_t>(f.value_bits + f.count_bits));
  const uint64_t per_pointer =
      std::max<uint64_t>(1, link / static_cast<uint64_t>(std::max(1, f.pointer_bits)));
  const int64_t cycles = ceil_div(entries, per_entry) + ceil_div(columns, per_pointer);
  return std::max<int64_t>(1, cycles);
}

uint64_t csc_entries(const float* values, int64_t n, int64_t stride, int count_bits,
                     uint64_t& run) {
  // A count field of count_bits holds runs of up to 2^count_bits - 1 zeros; an explicit zero entry
  // (with a full count) covers 2^count_bits zeros of a longer run.
  const uint64_t span = uint64_t{1} << std::min(count_bits, 62);
  uint64_t entries = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (values[i * stride] == 0.0f) {
      ++run;
      continue;
    }
    entries += run / span + 1;
    run = 0;
  }
  return entries;
}

CscSize csc_input_row(const mapper::CanonicalProblem& p, const float* input, int64_t a, int64_t k,
                      int64_t in_row, int count_bits) {
  const int64_t in_c = p.cols.in_len;
  const float* row = input + ((a * p.k + k) * p.rows.in_len + in_row) * in_c;
  uint64_t run = 0;
  return {csc_entries(row, in_c, 1, count_bits, run), 1};
}

CscSize csc_stream_segment(const mapper::CanonicalProblem& p, const float* input,
                           const mapper::PeTask& t, int count_bits) {
  CscSize s;
  if (!t.active || t.channels <= 0) return s;
  s.columns = static_cast<uint64_t>(t.channels);
  // A padding row is all zeros: its columns hold no entry.
  if (!p.rows.in_range(t.in_row)) return s;
  const int64_t in_c = p.cols.in_len;
  const int64_t window = (t.taps - 1) * p.cols.tap_step + 1;
  const int64_t c0 = p.cols.input_index(0, t.t0);
  // The stream's input columns (iact_stream): overlapping windows form one run of columns; with a
  // step longer than the window, each position's window is a run of its own.
  const bool contiguous = p.cols.out_step <= window;
  const int64_t runs = contiguous ? 1 : p.cols.out_len;
  const int64_t run_len = contiguous ? window + (p.cols.out_len - 1) * p.cols.out_step : window;
  const int64_t run_step = contiguous ? 0 : p.cols.out_step;
  for (int64_t k = t.k0; k < t.k0 + t.channels; ++k) {
    const float* row = input + ((t.a * p.k + k) * p.rows.in_len + t.in_row) * in_c;
    uint64_t zeros = 0;
    for (int64_t r = 0; r < runs; ++r) {
      // Columns outside the row are padding zeros: they only lengthen the zero run.
      const int64_t begin = c0 + r * run_step, end = begin + run_len;
      const int64_t lo = std::clamp<int64_t>(begin, 0, in_c),
                    hi = std::clamp<int64_t>(end, 0, in_c);
      if (hi <= lo) {
        zeros += static_cast<uint64_t>(run_len);
        continue;
      }
      zeros += static_cast<uint64_t>(lo - begin);
      s.entries += csc_entries(row + lo, hi - lo, 1, count_bits, zeros);
      zeros += static_cast<uint64_t>(end - hi);
    }
  }
  return s;
}

CscSize csc_filter_set(const mapper::CanonicalProblem& p, const float* filter,
                       const mapper::PeTask& t, int count_bits) {
  CscSize s;
  if (!t.active) return s;
  const int64_t taps_r = p.rows.taps, taps_c = p.cols.taps;
  // Lane l of (channel k, tap tt) is filter[((b0 + l) * K + k) * taps_r + row) * taps_c + tt].
  const int64_t lane_stride = p.k * taps_r * taps_c;
  for (int64_t k = t.k0; k < t.k0 + t.channels; ++k)
    for (int64_t tt = t.t0; tt < t.t0 + t.taps; ++tt) {
      const float* first = filter + ((t.b0 * p.k + k) * taps_r + t.filter_row) * taps_c + tt;
      uint64_t zeros = 0;
      s.entries += csc_entries(first, t.lanes, lane_stride, count_bits, zeros);
      ++s.columns;
    }
  return s;
}

CscSize csc_input_tensor(const mapper::CanonicalProblem& p, const float* input, int count_bits) {
  CscSize s;
  const int64_t rows = p.a * p.k * p.rows.in_len, in_c = p.cols.in_len;
  for (int64_t r = 0; r < rows; ++r) {
    uint64_t run = 0;
    s.entries += csc_entries(input + r * in_c, in_c, 1, count_bits, run);
  }
  s.columns = static_cast<uint64_t>(rows);
  return s;
}

CscSize csc_filter_tensor(const mapper::CanonicalProblem& p, const float* filter, int count_bits) {
  CscSize s;
  const int64_t per_filter = p.k * p.rows.taps * p.cols.taps;
  for (int64_t j = 0; j < per_filter; ++j) {
    uint64_t run = 0;
    s.entries += csc_entries(filter + j, p.b, per_filter, count_bits, run);
  }
  s.columns = static_cast<uint64_t>(per_filter);
  return s;
}

OnchipCompression onchip_compression(const arch::ArchConfig& config,
                                     const mapper::CanonicalProblem& p, const float* input,
                                     int iact_bits, const float* filter, int filter_bits) {
  OnchipCompression o;
  const arch::CscConfig& csc = config.pe.csc;
  o.iact = {iact_bits, csc.count_bits, csc.iact_pointer_bits};
  o.weight = {filter_bits, csc.count_bits, csc.weight_pointer_bits};
  if (config.pe.sparsity != arch::Sparsity::Csc) return o;
  const arch::SparseOperands& sparse = config.features.sparse_operands;
  const arch::OnchipCompression& flags = config.features.onchip_compression;
  auto class_on = [&](mapper::Operand operand) {
    return operand == mapper::Operand::Activation ? flags.activations
           : operand == mapper::Operand::Gradient ? flags.gradients
                                                  : false;
  };
  bool input_sparse = false, filter_sparse = false;
  switch (p.phase) {
    case mapper::Phase::Forward:
      input_sparse = sparse.forward_input;
      break;
    case mapper::Phase::Backward:
      input_sparse = sparse.backward_input;
      break;
    case mapper::Phase::WeightGradient:
      input_sparse = sparse.weight_gradient_input;
      filter_sparse = sparse.weight_gradient_filter;
      break;
  }
  auto smaller = [](const CscSize& s, const CscFormat& f, int64_t elements) {
    return s.bits(f) < static_cast<uint64_t>(elements) * static_cast<uint64_t>(f.value_bits);
  };
  if (input_sparse && class_on(p.input) && input)
    o.input = smaller(csc_input_tensor(p, input, csc.count_bits), o.iact,
                      p.a * p.k * p.rows.in_len * p.cols.in_len);
  if (filter_sparse && class_on(p.filter) && filter)
    o.filter = smaller(csc_filter_tensor(p, filter, csc.count_bits), o.weight,
                       p.b * p.k * p.rows.taps * p.cols.taps);
  return o;
}

}  // namespace eg::hw::array
