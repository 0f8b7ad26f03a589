#pragma once
// Sizes of operands held and moved on chip in compressed sparse column (CSC) form
// (features.onchip_compression, docs/DESIGN.md §5.3), computed from the operand's actual values.
//
// A column is stored as one entry (value, count of zeros before it in count_bits) per non-zero,
// plus an explicit zero entry for every 2^count_bits zeros of a run the count field cannot hold,
// plus one address pointer; zeros after a column's last non-zero cost nothing (the pointer of the
// next column delimits it). What a column is:
//  - input (iact) operand: one channel's input row, or the part of it one PE stream segment
//    carries (the row stored in a GLB bank is one column; a segment of channels x columns is one
//    column per channel). Rows are what the GLB stores and the routers read bank by bank, so the
//    fill the DMA writes and the segments the routers read share one format.
//  - filter operand: one (channel, tap) of a PE row's filter set, its `lanes` entries (the filters
//    of the set), as Eyeriss v2's weight CSC has one column per input activation a weight column
//    multiplies (Chen et al., JETCAS 2019).
//
// On a link, value entries and pointers travel as words of their own, each packed to the link
// width as dense entries are (floor(link bits / word bits) per transfer, never split across
// transfers), so a fully dense operand never moves faster compressed than raw.
#include <cstdint>

#include "models/arch/arch_config.hpp"
#include "sw/mapper/canonical_problem.hpp"
#include "sw/mapper/schedule.hpp"

namespace eg::hw::array {

struct CscFormat {
  int value_bits = 8;    // the operand's width
  int count_bits = 4;    // zero-run count beside each entry (pe.csc.count_bits)
  int pointer_bits = 4;  // a column's address (pe.csc.iact_pointer_bits / weight_pointer_bits)
};

// Which of a problem's operands are held in the GLB and cross the NoC in CSC form, and their
// formats (filled by make_pe_context from pe.csc and features.onchip_compression).
struct OnchipCompression {
  bool input = false, filter = false;
  CscFormat iact, weight;
};

// Entries and columns of some CSC data; bits and link transfers follow from a format.
struct CscSize {
  uint64_t entries = 0, columns = 0;
  CscSize& operator+=(const CscSize& o) {
    entries += o.entries, columns += o.columns;
    return *this;
  }
  uint64_t bits(const CscFormat& f) const {
    return entries * static_cast<uint64_t>(f.value_bits + f.count_bits) +
           columns * static_cast<uint64_t>(f.pointer_bits);
  }
  // Transfers over a link of `link_bits` (value words, then pointer words; at least 1).
  int64_t link_cycles(const CscFormat& f, int link_bits) const;
};

// Entries (not yet columns) of `n` values read at `stride` apart, continuing the zero run `run`
// (updated: the zeros left after the last non-zero), with a count field of `count_bits`.
uint64_t csc_entries(const float* values, int64_t n, int64_t stride, int count_bits, uint64_t& run);

// One channel's whole input row (a, k, in_row) of the canonical input `input`, as the GLB stores
// it: one column.
CscSize csc_input_row(const mapper::CanonicalProblem& p, const float* input, int64_t a, int64_t k,
                      int64_t in_row, int count_bits);

// What PE task `t`'s input stream segment carries (iact_stream: its channels x the input columns
// of its windows, out-of-range columns being zeros): one column per channel.
CscSize csc_stream_segment(const mapper::CanonicalProblem& p, const float* input,
                           const mapper::PeTask& t, int count_bits);

// PE task `t`'s filter set (its lanes x channels x taps of the canonical filter `filter`): one
// column per (channel, tap).
CscSize csc_filter_set(const mapper::CanonicalProblem& p, const float* filter,
                       const mapper::PeTask& t, int count_bits);

// Whole operands, for the per-tensor format choice (make_pe_context): the canonical input with one
// column per row (as the GLB holds it); the canonical filter with one column per (channel, filter
// row, tap) over all its filters.
CscSize csc_input_tensor(const mapper::CanonicalProblem& p, const float* input, int count_bits);
CscSize csc_filter_tensor(const mapper::CanonicalProblem& p, const float* filter, int count_bits);

// What problem `p` holds and moves on chip in CSC form under `config`: an operand the PE treats as
// sparse (pe.sparsity "csc" and its features.sparse_operands flag) whose class (activations, or
// the error gradient) has its features.onchip_compression flag on, unless its whole CSC form
// would be larger than dense (a per-tensor format choice, as the DMA makes for δ̂ in DRAM, so a
// dense operand such as the network's input image is not slowed down). `input` and `filter` are
// the canonical operands, `iact_bits` and `filter_bits` their widths.
OnchipCompression onchip_compression(const arch::ArchConfig& config,
                                     const mapper::CanonicalProblem& p, const float* input,
                                     int iact_bits, const float* filter, int filter_bits);

}  // namespace eg::hw::array
