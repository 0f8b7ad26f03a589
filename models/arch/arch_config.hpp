#pragma once
// The accelerator's hardware parameters (docs/DESIGN.md §2), one struct per config section. Every
// assumption the paper does not fix is a field here; configs/hw/README.md gives each default's
// source. Parsed strictly from JSON (unknown key, wrong type, impossible value -> eg::Error naming
// the JSON pointer) and handed to module constructors.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "models/dram/dram_config.hpp"
#include "models/energy/energy_table.hpp"

namespace eg {
class JsonFields;
}

namespace eg::arch {

using eg::JsonFields;

// Upper bounds of a hardware config (configs/hw/README.md, "Limits"). Each is far above any array
// the model is meant for, and low enough that a config within them cannot exhaust memory or
// overflow a size: the simulator keeps an object per PE and a task per PE and fold of every pass.
//
// PEs in the whole array (pc_rows x pc_cols x pe_rows x pe_cols): EfficientGrad has 72 and
// Eyeriss v2 192; 16384 is a 128 x 128 systolic array. At that size one pass's task table is
// ~2 MB per fold; 64 x 64 clusters of 64 x 64 PEs (16.7 M PEs) would need ~10 GB of PE state alone.
inline constexpr int64_t kMaxArrayPes = 16384;
// Rows or columns of the cluster mesh or of the PEs in one cluster.
inline constexpr int kMaxMeshSide = 64;
// Entries of any one PE scratchpad: Eyeriss v2's largest holds 192 (weights); 65536 keeps every
// per-PE product (entries x bits, entries x lanes) far from overflowing.
inline constexpr int kMaxSpadEntries = 1 << 16;
// A CSC count or address pointer: 32 bits address any spad within kMaxSpadEntries many times over
// (Eyeriss v2 uses 4 and 7).
inline constexpr int kMaxCscFieldBits = 32;
// Cycles of one CSC overhead (an empty column, a non-zero's extra reads): the PE's pipeline is at
// most 64 stages (pe.mac_pipeline_depth), and no single spad lookup takes longer than it.
inline constexpr int kMaxCscCycles = 64;
// Bytes of one GLB bank: Eyeriss v2's are 1.5-1.9 KiB; 1 GiB keeps clusters x banks x bank bytes
// (at most 2^12 x 2^10 x 2^30) within 64 bits.
inline constexpr int64_t kMaxGlbBankBytes = int64_t{1} << 30;
// Buffers a GLB's banks are split into (glb.iact_buffers, glb.psum_buffers): 2 is double
// buffering; more than 16 leaves tiles of a few bytes at Eyeriss v2 bank sizes.
inline constexpr int kMaxGlbBuffers = 16;
// Array clock: 1 MHz to 10 GHz. The simulated time base is 1 ps, so a 1 MHz run can still count
// 1.8e13 cycles, and 10 GHz (100 ps) is above any accelerator clock.
inline constexpr double kMinClockMhz = 1.0;
inline constexpr double kMaxClockMhz = 1e4;

struct ArrayGeometry {
  int pc_rows = 2, pc_cols = 3;  // processing clusters on the mesh
  int pe_rows = 3, pe_cols = 4;  // PEs per cluster
  int pc_count() const { return pc_rows * pc_cols; }
  int pes_per_pc() const { return pe_rows * pe_cols; }
  int pe_count() const { return pc_count() * pes_per_pc(); }
};

// How the PE treats zero operands (configs/hw/README.md, `pe.sparsity`): Eyeriss v2's compressed
// processing (a zero takes no MAC cycle, SIMD lanes are filled with non-zeros), zero gating (a
// zero MAC is not issued, saving its energy but not its cycle), or none (every MAC issued).
enum class Sparsity { Csc, ZeroGating, None };

// Compressed sparse column (CSC) format of the PE's scratchpads and its per-non-zero costs
// (Eyeriss v2, Chen et al., JETCAS 2019; sources per field in configs/hw/README.md).
struct CscConfig {
  int count_bits = 4;           // zero-run count stored beside each non-zero (iact and weight)
  int iact_pointer_bits = 4;    // one entry of the iact address spad (a column's start)
  int weight_pointer_bits = 7;  // one entry of the weight address spad (a column's start)
  // Cycles a non-zero iact whose weight column holds no non-zero still costs (the address read
  // that finds the column empty).
  int empty_column_cycles = 1;
  // Extra cycles per non-zero iact processed beyond its SIMD MAC cycles (its address and data
  // reads; 0 when the PE's pipeline hides them behind the previous iact's MACs).
  int nonzero_iact_overhead_cycles = 0;
};

struct PeConfig {
  int macs_per_cycle = 2;  // SIMD lanes: filters sharing one iact per cycle
  int spad_iact_entries = 16;
  int spad_weight_entries = 96;
  int spad_feedback_entries = 96;
  int spad_psum_entries = 32;
  int mac_pipeline_depth = 2;  // fill + drain once per row task
  Sparsity sparsity = Sparsity::Csc;
  CscConfig csc;
};

struct Widths {  // bits
  int activation = 8, weight = 8, feedback = 8, gradient = 16, psum = 24;
  int master_weight = 16, momentum = 16;
};

struct GlbConfig {
  int iact_banks = 3;
  int64_t iact_bank_bytes = 1536;
  int psum_banks = 4;
  int64_t psum_bank_bytes = 1920;
  int grad_banks = 1;
  int64_t grad_bank_bytes = 4096;
  int bank_width_bits = 64;
  int ports_per_bank = 1;  // accesses a bank serves per cycle
  // Passes whose input rows the iact banks hold at once (the DMA fills the next ones while the
  // array computes), and output tiles the psum (or grad) banks hold at once (earlier ones drain
  // while the array computes). The mapper sizes tiles to 1/buffers of the banks.
  int iact_buffers = 2;
  int psum_buffers = 2;
};

// Per cluster. Multicast groups share the iact routers round-robin; PE row r is fed by weight
// router r mod weight_routers and PE column c drains through psum router c mod psum_routers, so
// fewer routers than rows or columns serialise their transfers (one transfer per router and cycle).
// hop_cycles: one link hop, inside a cluster (router -> PE, PE -> PE of a column) and between
// neighbouring clusters of the pc_rows x pc_cols mesh.
struct NocConfig {
  int iact_routers = 3, iact_link_bits = 24;
  int weight_routers = 3, weight_link_bits = 24;
  int psum_routers = 4, psum_link_bits = 40;
  int hop_cycles = 1;
};

struct PpuConfig {
  int elements_per_cycle = 4;  // per cluster
  int sgd_ops_per_weight = 3;
};

// The backward phase's filter: the feedback in the PE spad (EfficientGrad), or W itself read as Wᵀ
// (back-propagation), either re-laid-out in DRAM first (TransposedDram: W read, Wᵀ written, then
// Wᵀ streamed contiguously) or read in place with transposed addressing (TransposedRead: no
// re-layout; each fold's filters are short runs of W at a stride, each its own DRAM burst(s)).
enum class FeedbackSource { PeSpad, TransposedDram, TransposedRead };
enum class GradientCompression { None, Rle, Csc };
// The order of a layer's two backward products (docs/DESIGN.md §5.7). Separate: the layer's
// backward (dX = Wᵀδ) runs whole, then its weight gradient (dW = δxᵀ), each streaming δ from
// DRAM. Interleaved (InterGrad, Unnikrishnan & Parhi, TCAS-I 2023): the layer's δ is split into
// tiles along the batch that fit the GLB; each tile's backward passes fetch it once, and its
// weight-gradient passes then read it from the GLB.
enum class BackwardSchedule { Separate, Interleaved };
// Where the feedback magnitudes of the backward phase come from: read from DRAM next to the
// weights (a feedback-class transfer), or regenerated on chip from the run's seed (no traffic).
enum class FeedbackMagnitudes { Dram, Seed };

// Which operand's zeros the PE exploits in each phase (with pe.sparsity "csc" or "zero_gating";
// "none" exploits none).
struct SparseOperands {
  bool forward_input = true;           // post-ReLU activations, the input of forward
  bool backward_input = true;          // δ̂, the input of backward
  bool weight_gradient_input = true;   // activations, the input of the weight gradient
  bool weight_gradient_filter = true;  // δ̂, the filter of the weight gradient
};

// Which operand classes are held in the GLB and cross the NoC in CSC form when the PE treats them
// as sparse (pe.sparsity "csc" and their features.sparse_operands flag); otherwise they are dense
// on chip (docs/DESIGN.md §5.3, configs/hw/README.md).
struct OnchipCompression {
  bool activations = true;  // forward and weight-gradient inputs
  bool gradients = true;    // δ̂: backward input, weight-gradient filter
};

struct Features {
  FeedbackSource feedback_source = FeedbackSource::PeSpad;
  FeedbackMagnitudes feedback_magnitudes = FeedbackMagnitudes::Dram;
  SparseOperands sparse_operands;
  OnchipCompression onchip_compression;
  GradientCompression gradient_compression = GradientCompression::None;
  // A layer's output (forward) or input gradient (backward) stays in the GLB for the next layer
  // when it fits and that layer is its only consumer; otherwise it goes through DRAM.
  bool interlayer_glb_reuse = true;
  // The PPU applies the SGD step as ΔW drains from the array in the weight-gradient phase: ΔW never
  // goes to DRAM, and the update streams master W and momentum with its reads, PPU work and writes
  // overlapped (docs/DESIGN.md §5.7). Off: ΔW is written, read back, and the update's reads, PPU
  // work and writes run one after another.
  bool fused_weight_update = false;
  // The DMA fetches the next array problem's first passes (filters, and inputs nothing before it
  // writes) while the current one computes, so the array does not wait for its first fill
  // (docs/DESIGN.md §5.6); off: every problem starts with its first fill exposed (the ablation).
  bool cross_layer_prefetch = true;
  // The gradient w.r.t. the network input (the backward phase of a conv/FC layer fed by the
  // network input) feeds nothing in training, so by default it is not computed; true runs that
  // backward phase too (and checks it when the trace has the layer's dx).
  bool first_layer_input_gradient = false;
  // SLU traces (E²-Train's selective layer update): a gated block's branch layer whose block no
  // sample of the mini-batch ran has a zero weight gradient; true skips its weight-gradient phase
  // and its weight update (the trainer leaves such weights and momenta untouched), false still
  // runs the update (reading the zero dW: momentum and weight decay move the weights, so the
  // update is then not checked against the trace). No effect on traces without SLU.
  bool skip_unused_block_update = true;
  BackwardSchedule backward_schedule = BackwardSchedule::Separate;
};

// Mapper fold scheduling (docs/DESIGN.md §4); each switch is an ablation, not a fixed choice.
struct MappingConfig {
  // Run the folds of a tile back to back in one pass with psums kept in the PE when its psum row
  // fits the psum spad (Eyeriss keeps psums in the spad while channels stream).
  bool psum_stationary_folds = true;
  // Split the filter spad into two halves so the next fold's filters load while the current fold
  // computes; off: one filter set at a time, every load exposed.
  bool double_buffer_filter_spad = true;
};

enum class OffchipModel { Ideal, Lpddr4 };

struct OffchipConfig {
  OffchipModel model = OffchipModel::Lpddr4;
  int64_t latency_cycles = 100;        // ideal model only
  double bytes_per_cycle = 25.6;       // ideal model only
  std::string dram_config;             // path as written (relative: to the config file's folder)
  bool dram_background_power = false;  // add standby power x time to the DRAM energy
};

// Tolerance of the functional check, per tensor: every element |sim - trace| <= rtol * max|trace|
// + atol (hw/array/functional_check.hpp; values and how rtol was measured: configs/hw/README.md).
struct CheckConfig {
  double atol = 1e-30;
  double rtol = 2e-3;
};

struct ArchConfig {
  std::string name;
  double clock_mhz = 500.0;
  ArrayGeometry array;
  PeConfig pe;
  Widths widths;
  GlbConfig glb;
  NocConfig noc;
  PpuConfig ppu;
  Features features;
  MappingConfig mapping;
  OffchipConfig offchip;
  CheckConfig check;
  std::string energy_table;  // path as written (relative: to the config file's folder)
  nlohmann::json raw;        // the config as loaded, for reports

  // The files the paths above name, loaded by load_referenced_files() (load_arch_config does it).
  std::optional<dram::DramConfig> dram;
  std::optional<energy::EnergyTable> energy;
};

// Section parsers: each reads and finishes its own object, so new sections are local additions.
ArrayGeometry parse_array(JsonFields& f);
PeConfig parse_pe(JsonFields& f);
Widths parse_widths(JsonFields& f);
GlbConfig parse_glb(JsonFields& f);
NocConfig parse_noc(JsonFields& f);
PpuConfig parse_ppu(JsonFields& f);
Features parse_features(JsonFields& f);
MappingConfig parse_mapping(JsonFields& f);
OffchipConfig parse_offchip(JsonFields& f);
CheckConfig parse_check(JsonFields& f);

// Parses and validates the config itself; the files it names are not read yet.
ArchConfig arch_config_from_json(const nlohmann::json& json, const std::string& file);
// Loads the DRAM config and energy table the config names, relative paths taken from `base_dir`.
// Errors name the config file and field, then the referenced file's own problem.
void load_referenced_files(ArchConfig& config, const std::string& file,
                           const std::filesystem::path& base_dir);
// Both of the above, relative paths resolved against the config file's folder.
ArchConfig load_arch_config(const std::filesystem::path& path);

const char* to_string(Sparsity s);
const char* to_string(FeedbackSource s);
const char* to_string(GradientCompression c);
const char* to_string(BackwardSchedule s);
const char* to_string(FeedbackMagnitudes m);
const char* to_string(OffchipModel m);

}  // namespace eg::arch
