#pragma once
// Trace format (docs/DESIGN.md §3): the only thing the trainer and the simulator share.
// A trace is a directory with manifest.json and one .npy file per (layer, tensor role).
// Version 2 adds the optimizer's hyper-parameters and, per conv/FC layer, the momentum before the
// SGD step and the weights and momentum after it, so the weight update can be checked; version 1
// traces are still read (they simply have no update check). Either version may carry `smd`, the
// mini-batch dropping of the run (MiniBatchDropping below); without it, the run dropped nothing.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/new_dirs.hpp"
#include "workloads/npy.hpp"

namespace eg::trace {

// The version the writer produces for a manifest with an optimizer; one without is written as
// version 1 (what it is). The reader accepts kOldestFormatVersion..kFormatVersion.
inline constexpr int kFormatVersion = 2;
inline constexpr int kOldestFormatVersion = 1;
inline constexpr const char* kFormatName = "egtrace";

// Reader limits: a manifest outside them is rejected with an eg::Error naming the field, so a
// corrupt or hostile trace cannot make the simulator exhaust memory, overflow a size or run for
// longer than any real layer would.
//
// Largest manifest.json read. A ResNet-18 manifest with its dy histograms is ~100 KiB; 64 MiB
// leaves room for histograms of ~10^5 bins per layer and still parses in about a second.
inline constexpr std::size_t kMaxManifestBytes = std::size_t{64} << 20;
// Elements of any one tensor (x, y, w and so dx, dy, dw): 2^28 floats = 1 GiB. The largest
// activation of ImageNet ResNet-18/50 at batch 256 (conv1's output, 256x64x112x112) has 2.06e8;
// the simulator holds a few tensors of a layer at once, so a run stays within a few GiB.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 28;
// Dense multiply-accumulates of one conv/FC layer's forward pass: 2^40 = 1.1e12. The largest
// VGG-16 layer at batch 256 needs 4.7e11; anything beyond would take days to simulate.
inline constexpr int64_t kMaxLayerMacs = int64_t{1} << 40;
// Side of a conv kernel. Real kernels are 1 to 11 (patch embeddings 16 or 32, the largest
// "large-kernel" convs 51); the backward pass splits a stride-s layer into up to
// min(s, R) x min(s, S) sub-problems, so this also bounds their number (4096).
inline constexpr int64_t kMaxConvKernel = 64;
// Layer names: the trace writer names files "<layer>.<role>.npy", which must stay within the
// 255-byte file-name limit of Linux file systems (the longest role, momentum_next, adds 18 bytes).
inline constexpr std::size_t kMaxNameBytes = 200;

// Patch side of a gradient-filtered layer (Layer::grad_filter). A patch at least as large as the
// feature map averages the whole map, so larger ones add nothing; 64 covers the 56 x 56 maps of
// ImageNet ResNets after their stem with room to spare. The trainer accepts the same range.
inline constexpr int64_t kMaxGradFilterPatch = 64;

enum class LayerType { Conv, Fc, Bn, Relu, Add, AvgPool, MaxPool };
std::string to_string(LayerType type);
// Throws eg::Error "<context>: unknown layer type 'x' (expected conv, fc, ...)".
LayerType layer_type_from_string(const std::string& text, const std::string& context);

// Tensor roles. For conv/fc: x, w, feedback, y, dy, dx, dw (all optional in the format, but the
// trainer writes all seven). `feedback` is the matrix the backward phase actually multiplies with:
// W for bp/bp-prune, B for fa, sign(W) for sign, sign(W)*|B| for ssfa/efficientgrad, so that
// dx == transposed-conv(dy, feedback) holds in every mode. Other layer types: x, y, dy, dx.
inline const std::vector<std::string>& all_roles() {
  static const std::vector<std::string> roles{"x", "w", "feedback", "y", "dy", "dx", "dw"};
  return roles;
}

// Optional conv/FC role of PSG traces (any version): which weights' signs needed the
// full-precision gradient (1) and which the predictor decided (0); the shape of w.
inline constexpr const char* kPsgMaskRole = "psg_mask";

// Version 2 roles of conv/FC layers: `momentum` is the SGD momentum buffer before the step,
// `w_next` and `momentum_next` the weights and momentum after it (`w` and `dw` being the step's
// inputs).
inline const std::vector<std::string>& update_roles() {
  static const std::vector<std::string> roles{"momentum", "w_next", "momentum_next"};
  return roles;
}

// Gradient filtering roles of a conv layer with `grad_filter` (any version;
// sw/train/grad_filter.hpp has the equations): `gy_filtered` g~ [N,M,E',F'] (dy's patch means, E' =
// ceil(E/r), F' = ceil(F/r)), `x_filtered` x~ [N,C,E',F'] (x summed over each patch, at the centre
// tap), `w_summed` W~ [M,C,1,1] (the feedback summed over its taps).
inline const std::vector<std::string>& grad_filter_roles() {
  static const std::vector<std::string> roles{"gy_filtered", "x_filtered", "w_summed"};
  return roles;
}

// The trainer's SGD (version 2): momentum_next = momentum·momentum + (dw + weight_decay·w),
// w_next = w − lr·momentum_next, element by element in float32 (sw/train/sgd.cpp). `lr` is the
// rate of the traced iteration (after the schedule); weight decay applies to every conv/FC weight.
struct Optimizer {
  std::string type = "sgd";
  double lr = 0.0;
  double momentum = 0.0;
  double weight_decay = 0.0;
};

// Stochastic mini-batch dropping (E²-Train's SMD) in the run the trace was taken from: each
// mini-batch of the nominal schedule was skipped with probability `drop_prob`. The trainer writes
// it only when drop_prob > 0, in traces of either version; a manifest without it comes from a run
// that executed every mini-batch (executed = nominal). The manifest's `iteration` stays the
// nominal index of the traced step (it fixes the learning rate and the pruning draws). The run's
// energy is the per-iteration energy times `executed_iterations`.
struct MiniBatchDropping {
  double drop_prob = 0.0;
  int64_t executed_iteration = 0;   // executed mini-batches up to and including the traced one
  int64_t nominal_iterations = 0;   // mini-batches of the run's nominal schedule
  int64_t executed_iterations = 0;  // of those, the ones the run executes
};

// Selective layer update (E²-Train's SLU) in the run the trace was taken from. Each gated residual
// block lists the layers that ran only for its active samples (`layers`: the residual branch) and
// its gate's layers (`gate_layers`: ordinary manifest layers, a global average pool and an FC to
// one unit, which run for every sample). `mask` and `probabilities` name .npy files of shape
// [batch] in the trace directory: the per-sample decision (1 = the branch ran, 0 = skipped; each
// value exactly 0 or 1) and the gate's sigmoid output p (the decision is p >= 0.5). The branch
// layers keep the full batch in their shapes; the rows of skipped samples in their per-sample
// tensors (x, y, dy, dx) are zero. Optional: absent, no block was gated.
struct SluBlock {
  std::string name;
  std::vector<std::string> layers, gate_layers;
  std::string mask, probabilities;
};
struct Slu {
  double alpha = 0.0;                 // the FLOPs term's weight at the traced step (any sign)
  std::optional<double> target_skip;  // the skip ratio α was steered toward, if any
  std::vector<SluBlock> blocks;
};

// E²-Train's predictive sign gradient (PSG, Wang et al., NeurIPS 2019, §3.3) in the run the
// trace was taken from (any version; absent: the exact weight gradient). x and w were
// fake-quantised to `bits_x`/`bits_w` bits and g_y to `bits_gy`; a predictor g_w^msb was formed
// from the top `bits_x_msb` bits of x and the top `bits_gy_msb` bits of g_y; where |g_w^msb| >= τ̃ =
// beta·max|g_w^msb| (per layer) its sign is dW, elsewhere the sign of the full-precision (8/16-bit)
// g_w. Each conv/FC layer then has a `psg` record, a `psg_mask` tensor (1 where the full-precision
// gradient decided, 0 where the predictor did) and a `dw` of signs (-1, 0, +1).
struct WeightGradientRule {
  std::string rule = "psg";
  double beta = 0.05;
  int bits_x = 8, bits_w = 8, bits_gy = 16, bits_x_msb = 4, bits_gy_msb = 10;
};

// Per conv/FC layer under PSG: the layer's threshold τ̃ and the fraction of its weights whose
// sign came from the full-precision gradient (the mean of psg_mask).
struct PsgLayer {
  double tau = 0.0;
  double full_precision_fraction = 0.0;
};

struct LayerStats {
  double dy_nonzero_fraction = 1.0;                 // of the pruned dy actually used
  double dy_nonzero_fraction_before_pruning = 1.0;  // of dy before pruning
  double tau = 0.0;                                 // 0 where nothing was pruned
  double angle_to_bp_deg = 0.0;                     // angle between this mode's dx and the BP dx
  nlohmann::json extra = nlohmann::json::object();  // anything else (e.g. dy histogram)
};

struct Layer {
  std::string name;
  LayerType type = LayerType::Conv;
  std::vector<std::string> inputs;  // producer layer names; empty = network input
  Shape in;                         // [N,C,H,W] (fc: [N,C])
  Shape out;                        // [N,M,E,F] (fc: [N,M])
  // conv and pooling geometry (kernel [R,S]); unused for other types
  int64_t kernel_r = 0, kernel_s = 0, stride = 1, pad = 0;
  std::map<std::string, std::string> tensors;  // role -> file name inside the trace dir
  LayerStats stats;
  // Fine-tuning (optional, any version): a frozen layer ran forward only (no backward, no update;
  // its trace has no dy, dx, dw). grad_filter: the patch side r >= 2 of a gradient-filtered conv
  // layer (0 = not filtered); its dx and dw are the filtered ones.
  bool frozen = false;
  int64_t grad_filter = 0;
  std::optional<PsgLayer> psg;  // conv/FC layers of a PSG trace only

  // Shape a tensor of `role` must have for this layer; throws eg::Error for a role the type lacks.
  Shape expected_shape(const std::string& role) const;
  int64_t dense_macs() const;  // forward MACs of conv/fc (N*M*E*F*C*R*S, N*M*C); 0 otherwise
};

struct Manifest {
  std::string network;
  std::string dataset;
  std::string mode;  // bp, fa, sign, ssfa, efficientgrad, bp-prune
  double pruning_rate = 0.0;
  std::string sigma_estimator = "mean_abs";
  uint64_t seed = 0;
  int64_t iteration = 0;  // 1-based mini-batch index the trace was taken at
  int64_t batch = 0;
  std::optional<Optimizer> optimizer;                 // version 2 traces only
  std::optional<MiniBatchDropping> smd;               // absent: no mini-batch was dropped
  std::optional<WeightGradientRule> weight_gradient;  // absent: the exact weight gradient
  std::optional<Slu> slu;                             // absent: no residual block was gated
  std::vector<Layer> layers;                          // in forward (topological) order

  int version() const { return optimizer ? kFormatVersion : kOldestFormatVersion; }

  const Layer* find(const std::string& name) const;
};

nlohmann::json to_json(const Manifest& manifest);
// Validates every field (types, version, shapes consistent with geometry, inputs referring to
// earlier layers, unique names) and the limits above; windowed layers also need pad < kernel,
// kernel <= padded input and stride <= padded input on each axis. `source` names the file in error
// messages: "<source>: /layers/3/stride: ... (layer 'conv2')".
Manifest manifest_from_json(const nlohmann::json& json, const std::string& source);

// Reads a trace directory. open() validates the manifest and every tensor file's presence, header
// and size against the layer's declared shapes; load() additionally rejects NaN/Inf.
class Trace {
 public:
  static Trace open(const std::filesystem::path& dir);
  const Manifest& manifest() const { return manifest_; }
  const std::filesystem::path& dir() const { return dir_; }
  bool has(const Layer& layer, const std::string& role) const;
  NdArray load(const Layer& layer, const std::string& role) const;
  // SLU: the samples (ascending) a layer of a gated block's branch ran for; nullptr for every
  // other layer. Read and checked (values 0/1, probabilities in [0, 1]) by open().
  const std::vector<int64_t>* active_samples(const std::string& layer) const;
  // SLU: a gated block's mask as read (0/1 per sample); nullptr for an unknown block.
  const std::vector<uint8_t>* slu_mask(const std::string& block) const;

 private:
  std::filesystem::path dir_;
  Manifest manifest_;
  std::map<std::string, std::vector<uint8_t>> slu_masks_;       // block -> mask
  std::map<std::string, std::vector<int64_t>> active_samples_;  // branch layer -> samples
};

// Throws eg::Error naming `dir` unless a TraceWriter may replace it: it is absent, an empty
// directory, or a trace a TraceWriter made, holding only the writer's marker file (.egtrace: the
// format, version and file list), manifest.json and the tensor files the marker lists. Anything
// else (a user's folder, even one with a manifest.json; a trace with a user's `sim/` folder added)
// is refused, naming the first foreign entry; so is a destination whose folder cannot be written.
// Tools call it up front so a bad destination fails before any work.
void check_trace_destination(const std::filesystem::path& dir);

// Writes a trace into a fresh temporary sibling directory (mkdtemp) and renames it into place on
// commit(), so a failed run leaves no partial trace and never replaces an existing one with a
// broken one. The target is checked by check_trace_destination at construction and again at
// commit; an earlier trace it replaces is deleted file by file (only what its marker lists).
class TraceWriter {
 public:
  explicit TraceWriter(std::filesystem::path dir);
  ~TraceWriter();  // removes the temporary directory if commit() was not reached
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Writes `<layer.name>.<role>.npy` with layer.expected_shape(role) elements from `data` and
  // records it in layer.tensors.
  void write_tensor(Layer& layer, const std::string& role, const float* data);
  // Writes a manifest-level array (SLU masks and probabilities) as `file`; commit() keeps it
  // when the manifest names it.
  void write_array(const std::string& file, const Shape& shape, const float* data);
  // Writes manifest.json (after validating it) and atomically moves the directory into place,
  // replacing an existing trace at that path.
  void commit(const Manifest& manifest);

 private:
  std::filesystem::path dir_;
  std::filesystem::path tmp_;
  NewDirs parents_;  // parent folders this writer created, removed again if it never commits
  bool committed_ = false;
};

}  // namespace eg::trace
