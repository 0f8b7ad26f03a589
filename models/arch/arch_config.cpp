#include "models/arch/arch_config.hpp"

#include "base/error.hpp"
#include "models/json_fields.hpp"

namespace eg::arch {

namespace {
int small(JsonFields& f, const std::string& key, int min, int max) {
  return static_cast<int>(f.integer(key, min, max));
}
}  // namespace

ArrayGeometry parse_array(JsonFields& f) {
  ArrayGeometry a;
  a.pc_rows = small(f, "pc_rows", 1, kMaxMeshSide);
  a.pc_cols = small(f, "pc_cols", 1, kMaxMeshSide);
  a.pe_rows = small(f, "pe_rows", 1, kMaxMeshSide);
  a.pe_cols = small(f, "pe_cols", 1, kMaxMeshSide);
  f.finish();
  const int64_t pes = int64_t{a.pc_rows} * a.pc_cols * a.pe_rows * a.pe_cols;
  if (pes > kMaxArrayPes)
    f.fail_object("pc_rows x pc_cols x pe_rows x pe_cols = " + std::to_string(pes) +
                  " PEs exceeds the limit of " + std::to_string(kMaxArrayPes));
  return a;
}

PeConfig parse_pe(JsonFields& f) {
  PeConfig p;
  p.macs_per_cycle = small(f, "macs_per_cycle", 1, 64);
  // Smallest mapping: one channel, one tap, one filter -> one entry in each scratchpad.
  p.spad_iact_entries = small(f, "spad_iact_entries", 1, kMaxSpadEntries);
  p.spad_weight_entries = small(f, "spad_weight_entries", 1, kMaxSpadEntries);
  p.spad_feedback_entries = small(f, "spad_feedback_entries", 1, kMaxSpadEntries);
  p.spad_psum_entries = small(f, "spad_psum_entries", 1, kMaxSpadEntries);
  p.mac_pipeline_depth = small(f, "mac_pipeline_depth", 1, 64);
  const std::string sparsity = f.choice("sparsity", {"csc", "zero_gating", "none"});
  p.sparsity = sparsity == "csc"           ? Sparsity::Csc
               : sparsity == "zero_gating" ? Sparsity::ZeroGating
                                           : Sparsity::None;
  // Required whatever the sparsity, so that an ablation switching pe.sparsity alone keeps a valid
  // config (and the CSC costs stay stated next to the switch).
  JsonFields c = f.object("csc");
  p.csc.count_bits = small(c, "count_bits", 1, kMaxCscFieldBits);
  p.csc.iact_pointer_bits = small(c, "iact_pointer_bits", 1, kMaxCscFieldBits);
  p.csc.weight_pointer_bits = small(c, "weight_pointer_bits", 1, kMaxCscFieldBits);
  p.csc.empty_column_cycles = small(c, "empty_column_cycles", 0, kMaxCscCycles);
  p.csc.nonzero_iact_overhead_cycles = small(c, "nonzero_iact_overhead_cycles", 0, kMaxCscCycles);
  c.finish();
  f.finish();
  return p;
}

Widths parse_widths(JsonFields& f) {
  Widths w;
  w.activation = small(f, "activation_bits", 1, 64);
  w.weight = small(f, "weight_bits", 1, 64);
  w.feedback = small(f, "feedback_bits", 1, 64);
  w.gradient = small(f, "gradient_bits", 1, 64);
  w.psum = small(f, "psum_bits", 1, 64);
  w.master_weight = small(f, "master_weight_bits", 1, 64);
  w.momentum = small(f, "momentum_bits", 1, 64);
  f.finish();
  return w;
}

GlbConfig parse_glb(JsonFields& f) {
  GlbConfig g;
  g.iact_banks = small(f, "iact_banks", 1, 1024);
  g.iact_bank_bytes = f.integer("iact_bank_bytes", 1, kMaxGlbBankBytes);
  g.psum_banks = small(f, "psum_banks", 1, 1024);
  g.psum_bank_bytes = f.integer("psum_bank_bytes", 1, kMaxGlbBankBytes);
  g.grad_banks = small(f, "grad_banks", 1, 1024);
  g.grad_bank_bytes = f.integer("grad_bank_bytes", 1, kMaxGlbBankBytes);
  g.bank_width_bits = small(f, "bank_width_bits", 1, 4096);
  g.ports_per_bank = small(f, "ports_per_bank", 1, 16);
  // Optional (older configs omit them): double buffering, as Eyeriss v2's GLB is used.
  if (f.has("iact_buffers")) g.iact_buffers = small(f, "iact_buffers", 1, kMaxGlbBuffers);
  if (f.has("psum_buffers")) g.psum_buffers = small(f, "psum_buffers", 1, kMaxGlbBuffers);
  f.finish();
  return g;
}

NocConfig parse_noc(JsonFields& f) {
  NocConfig n;
  n.iact_routers = small(f, "iact_routers", 1, 1024);
  n.iact_link_bits = small(f, "iact_link_bits", 1, 4096);
  n.weight_routers = small(f, "weight_routers", 1, 1024);
  n.weight_link_bits = small(f, "weight_link_bits", 1, 4096);
  n.psum_routers = small(f, "psum_routers", 1, 1024);
  n.psum_link_bits = small(f, "psum_link_bits", 1, 4096);
  n.hop_cycles = small(f, "hop_cycles", 0, 64);
  f.finish();
  return n;
}

PpuConfig parse_ppu(JsonFields& f) {
  PpuConfig p;
  p.elements_per_cycle = small(f, "elements_per_cycle", 1, 4096);
  p.sgd_ops_per_weight = small(f, "sgd_ops_per_weight", 1, 64);
  f.finish();
  return p;
}

Features parse_features(JsonFields& f) {
  Features x;
  const std::string fs =
      f.choice("feedback_source", {"pe_spad", "transposed_dram", "transposed_read"});
  x.feedback_source = fs == "pe_spad"           ? FeedbackSource::PeSpad
                      : fs == "transposed_dram" ? FeedbackSource::TransposedDram
                                                : FeedbackSource::TransposedRead;
  x.feedback_magnitudes = f.choice("feedback_magnitudes", {"dram", "seed"}) == "dram"
                              ? FeedbackMagnitudes::Dram
                              : FeedbackMagnitudes::Seed;
  JsonFields so = f.object("sparse_operands");
  x.sparse_operands.forward_input = so.boolean("forward_input");
  x.sparse_operands.backward_input = so.boolean("backward_input");
  x.sparse_operands.weight_gradient_input = so.boolean("weight_gradient_input");
  x.sparse_operands.weight_gradient_filter = so.boolean("weight_gradient_filter");
  so.finish();
  JsonFields oc = f.object("onchip_compression");
  x.onchip_compression.activations = oc.boolean("activations");
  x.onchip_compression.gradients = oc.boolean("gradients");
  oc.finish();
  const std::string c = f.choice("gradient_compression", {"none", "rle", "csc"});
  x.gradient_compression = c == "none"  ? GradientCompression::None
                           : c == "rle" ? GradientCompression::Rle
                                        : GradientCompression::Csc;
  x.interlayer_glb_reuse = f.boolean("interlayer_glb_reuse");
  x.fused_weight_update = f.boolean("fused_weight_update");
  x.cross_layer_prefetch = f.boolean("cross_layer_prefetch");
  x.first_layer_input_gradient = f.boolean("first_layer_input_gradient");
  x.skip_unused_block_update = f.boolean("skip_unused_block_update");
  x.backward_schedule = f.choice("backward_schedule", {"separate", "interleaved"}) == "separate"
                            ? BackwardSchedule::Separate
                            : BackwardSchedule::Interleaved;
  f.finish();
  return x;
}

MappingConfig parse_mapping(JsonFields& f) {
  MappingConfig m;
  m.psum_stationary_folds = f.boolean("psum_stationary_folds");
  m.double_buffer_filter_spad = f.boolean("double_buffer_filter_spad");
  f.finish();
  return m;
}

OffchipConfig parse_offchip(JsonFields& f) {
  OffchipConfig o;
  o.model = f.choice("model", {"ideal", "lpddr4"}) == "ideal" ? OffchipModel::Ideal
                                                              : OffchipModel::Lpddr4;
  o.latency_cycles = f.integer("latency_cycles", 0, 1 << 20);
  o.bytes_per_cycle = f.number("bytes_per_cycle", 1e-3, 1e6);
  o.dram_config = f.string("dram_config");
  if (o.dram_config.empty()) f.fail("dram_config", "must name a DRAM config file");
  o.dram_background_power = f.boolean("dram_background_power");
  f.finish();
  return o;
}

CheckConfig parse_check(JsonFields& f) {
  CheckConfig c;
  c.atol = f.number("atol", 0.0, 1.0);
  c.rtol = f.number("rtol", 0.0, 1.0);
  f.finish();
  return c;
}

namespace {
// Relations between sections that no single field can check.
void check_consistency(const ArchConfig& c, JsonFields& root) {
  if (c.noc.psum_link_bits < c.widths.psum)
    root.fail("noc", "psum_link_bits must be >= widths.psum_bits (one psum per link transfer)");
  if (c.noc.iact_link_bits < std::max(c.widths.activation, c.widths.gradient))
    root.fail("noc", "iact_link_bits must carry at least one activation or gradient");
  if (c.noc.weight_link_bits < std::max({c.widths.weight, c.widths.feedback, c.widths.gradient}))
    root.fail("noc", "weight_link_bits must carry at least one weight, feedback or gradient");
  // A bank access carries bank_width_bits; one entry of each kind must fit.
  if (c.glb.bank_width_bits < std::max({c.widths.activation, c.widths.gradient, c.widths.psum}))
    root.fail("glb", "bank_width_bits (" + std::to_string(c.glb.bank_width_bits) +
                         ") must carry at least one activation, gradient and psum per access");
  if (c.glb.psum_bank_bytes * 8 < c.widths.psum)
    root.fail("glb", "psum_bank_bytes cannot hold one psum");
}
}  // namespace

ArchConfig arch_config_from_json(const nlohmann::json& json, const std::string& file) {
  JsonFields root(json, file, "");
  ArchConfig c;
  c.name = root.string("name");
  c.clock_mhz = root.number("clock_mhz", kMinClockMhz, kMaxClockMhz);
  auto section = [&](const char* key, auto parse) {
    JsonFields f = root.object(key);
    return parse(f);
  };
  c.array = section("array", parse_array);
  c.pe = section("pe", parse_pe);
  c.widths = section("widths", parse_widths);
  c.glb = section("glb", parse_glb);
  c.noc = section("noc", parse_noc);
  c.ppu = section("ppu", parse_ppu);
  c.features = section("features", parse_features);
  c.mapping = section("mapping", parse_mapping);
  c.offchip = section("offchip", parse_offchip);
  c.check = section("check", parse_check);
  c.energy_table = root.string("energy_table");
  if (c.energy_table.empty()) root.fail("energy_table", "must name an energy table file");
  root.finish();
  check_consistency(c, root);
  // Copied only now that every key and value is known to be valid (a copy recurses per level).
  c.raw = json;
  return c;
}

namespace {
std::filesystem::path resolve(const std::string& path, const std::filesystem::path& base_dir) {
  const std::filesystem::path p(path);
  return p.is_absolute() ? p : base_dir / p;
}
}  // namespace

void load_referenced_files(ArchConfig& c, const std::string& file,
                           const std::filesystem::path& base_dir) {
  // The referenced file's own error already names its file and field; prefix where it was named.
  const std::filesystem::path dram_path = resolve(c.offchip.dram_config, base_dir);
  try {
    c.dram = dram::load_dram_config(dram_path.string());
  } catch (const Error& e) {
    throw Error(file + ": /offchip/dram_config: " + e.what());
  }
  const std::filesystem::path energy_path = resolve(c.energy_table, base_dir);
  try {
    // GLB entries are priced for the bank sizes the table states; rescale them to this config's.
    c.energy = energy::scale_glb_to_banks(
        energy::load_energy_table(energy_path.string()),
        {c.glb.iact_bank_bytes, c.glb.psum_bank_bytes, c.glb.grad_bank_bytes});
  } catch (const Error& e) {
    throw Error(file + ": /energy_table: " + e.what());
  }
}

ArchConfig load_arch_config(const std::filesystem::path& path) {
  ArchConfig c = arch_config_from_json(load_json_file(path), path.string());
  load_referenced_files(c, path.string(), path.parent_path());
  return c;
}

const char* to_string(Sparsity s) {
  return s == Sparsity::Csc ? "csc" : s == Sparsity::ZeroGating ? "zero_gating" : "none";
}
const char* to_string(FeedbackSource s) {
  return s == FeedbackSource::PeSpad           ? "pe_spad"
         : s == FeedbackSource::TransposedDram ? "transposed_dram"
                                               : "transposed_read";
}
const char* to_string(BackwardSchedule s) {
  return s == BackwardSchedule::Separate ? "separate" : "interleaved";
}

const char* to_string(GradientCompression c) {
  return c == GradientCompression::None ? "none" : c == GradientCompression::Rle ? "rle" : "csc";
}
const char* to_string(FeedbackMagnitudes m) {
  return m == FeedbackMagnitudes::Dram ? "dram" : "seed";
}
const char* to_string(OffchipModel m) {
  return m == OffchipModel::Ideal ? "ideal" : "lpddr4";
}

}  // namespace eg::arch
