#pragma once
// Countable hardware actions of a layer/phase: the array counts them, the energy model prices them
// (energy = counts x per-action energy, docs/DESIGN.md §6). Plain data; adds up.
#include <cstdint>

namespace eg {

struct ActionCounts {
  // MACs issued, by operand widths: 8b activation x 8b weight (forward) and 16b error gradient x
  // 8b weight/feedback/activation (backward and weight-gradient phases).
  uint64_t mac_8x8 = 0;
  uint64_t mac_16x8 = 0;
  // PSG's predictor MACs (E²-Train): the 10 MSBs of the error gradient x the 4 MSBs of the
  // activation, in the weight-gradient phase of a PSG trace.
  uint64_t mac_10x4 = 0;
  uint64_t zero_skips = 0;  // zero operands detected and stepped over (not issued)
  // PE scratchpads, in bits moved.
  uint64_t spad_iact_read_bits = 0, spad_iact_write_bits = 0;
  uint64_t spad_weight_read_bits = 0, spad_weight_write_bits = 0;
  uint64_t spad_feedback_read_bits = 0, spad_feedback_write_bits = 0;
  uint64_t spad_psum_read_bits = 0, spad_psum_write_bits = 0;
  // Router links, in bits x hops.
  uint64_t noc_iact_bit_hops = 0, noc_weight_bit_hops = 0, noc_psum_bit_hops = 0;
  // Global buffer banks, in bits moved.
  uint64_t glb_iact_read_bits = 0, glb_iact_write_bits = 0;
  uint64_t glb_psum_read_bits = 0, glb_psum_write_bits = 0;
  uint64_t glb_grad_read_bits = 0, glb_grad_write_bits = 0;
  // Post-processing unit element operations (BN, ReLU, add, pool, SGD update).
  uint64_t ppu_ops = 0;

  ActionCounts& operator+=(const ActionCounts& o) {
    mac_8x8 += o.mac_8x8;
    mac_16x8 += o.mac_16x8;
    mac_10x4 += o.mac_10x4;
    zero_skips += o.zero_skips;
    spad_iact_read_bits += o.spad_iact_read_bits;
    spad_iact_write_bits += o.spad_iact_write_bits;
    spad_weight_read_bits += o.spad_weight_read_bits;
    spad_weight_write_bits += o.spad_weight_write_bits;
    spad_feedback_read_bits += o.spad_feedback_read_bits;
    spad_feedback_write_bits += o.spad_feedback_write_bits;
    spad_psum_read_bits += o.spad_psum_read_bits;
    spad_psum_write_bits += o.spad_psum_write_bits;
    noc_iact_bit_hops += o.noc_iact_bit_hops;
    noc_weight_bit_hops += o.noc_weight_bit_hops;
    noc_psum_bit_hops += o.noc_psum_bit_hops;
    glb_iact_read_bits += o.glb_iact_read_bits;
    glb_iact_write_bits += o.glb_iact_write_bits;
    glb_psum_read_bits += o.glb_psum_read_bits;
    glb_psum_write_bits += o.glb_psum_write_bits;
    glb_grad_read_bits += o.glb_grad_read_bits;
    glb_grad_write_bits += o.glb_grad_write_bits;
    ppu_ops += o.ppu_ops;
    return *this;
  }
};

}  // namespace eg
