#include "workloads/trace.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"
#include "base/quote.hpp"

namespace eg::trace {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::pair<LayerType, const char*>>& type_names() {
  static const std::vector<std::pair<LayerType, const char*>> names{
      {LayerType::Conv, "conv"},      {LayerType::Fc, "fc"},   {LayerType::Bn, "bn"},
      {LayerType::Relu, "relu"},      {LayerType::Add, "add"}, {LayerType::AvgPool, "avgpool"},
      {LayerType::MaxPool, "maxpool"}};
  return names;
}

const std::set<std::string> kModes{"bp", "fa", "sign", "ssfa", "efficientgrad", "bp-prune"};
const std::set<std::string> kSigmaEstimators{"mean_abs", "std", "mean_abs_scaled"};

// Strict JSON field access: every error names the source file, the field's JSON pointer and, inside
// a layer, the layer's name ("manifest.json: /layers/1/colour: unknown key (layer 'bn1')").
class Fields {
 public:
  Fields(const json& object, std::string source, std::string pointer, std::string label = "")
      : object_(object),
        source_(std::move(source)),
        pointer_(std::move(pointer)),
        label_(std::move(label)) {
    if (!object_.is_object()) fail(pointer_.empty() ? "/" : pointer_, "must be an object");
  }

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(source_ + ": " + field + ": " + problem + label_);
  }
  std::string path(const std::string& key) const { return pointer_ + "/" + pointer_token(key); }

  void allow_only(const std::set<std::string>& keys) const {
    for (auto it = object_.begin(); it != object_.end(); ++it)
      if (!keys.count(it.key())) fail(path(it.key()), "unknown key");
  }
  bool has(const std::string& key) const { return object_.contains(key); }
  const json& raw(const std::string& key) const {
    if (!object_.contains(key)) fail(path(key), "missing");
    return object_.at(key);
  }
  std::string string(const std::string& key) const {
    const json& v = raw(key);
    if (!v.is_string()) fail(path(key), "must be a string");
    return v.get<std::string>();
  }
  double number(const std::string& key) const {
    const json& v = raw(key);
    if (!v.is_number()) fail(path(key), "must be a number");
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail(path(key), "must be finite");
    return x;
  }
  int64_t integer(const std::string& key, int64_t min_value,
                  int64_t max_value = std::numeric_limits<int64_t>::max()) const {
    const json& v = raw(key);
    if (!v.is_number_integer()) fail(path(key), "must be an integer");
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(max_value))
      fail(path(key), "must be <= " + std::to_string(max_value) + ", got " + v.dump());
    const int64_t x = v.get<int64_t>();
    if (x < min_value)
      fail(path(key), "must be >= " + std::to_string(min_value) + ", got " + std::to_string(x));
    if (x > max_value)
      fail(path(key), "must be <= " + std::to_string(max_value) + ", got " + std::to_string(x));
    return x;
  }
  uint64_t unsigned_integer(const std::string& key) const {
    const json& v = raw(key);
    if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0))
      fail(path(key), "must be a non-negative integer");
    return v.get<uint64_t>();
  }
  // A tensor shape: 1 to 4 positive extents whose product is at most kMaxTensorElements.
  Shape shape(const std::string& key) const {
    const json& v = raw(key);
    const std::string problem = "must be an array of 1 to 4 positive integers";
    if (!v.is_array() || v.empty() || v.size() > 4) fail(path(key), problem);
    Shape s;
    for (const json& d : v) {
      if (!d.is_number_integer() || (!d.is_number_unsigned() && d.get<int64_t>() < 1) ||
          d.get<uint64_t>() < 1)
        fail(path(key), problem);
      if (d.get<uint64_t>() > static_cast<uint64_t>(kMaxTensorElements))
        fail(path(key), "extent " + d.dump() + " exceeds the limit of " +
                            std::to_string(kMaxTensorElements) + " elements per tensor");
      s.push_back(d.get<int64_t>());
    }
    check_elements(s, key, "");
    return s;
  }
  // Throws unless `s` (named by `key`, with `what` describing it) has at most kMaxTensorElements.
  void check_elements(const Shape& s, const std::string& key, const std::string& what) const {
    int64_t n = 1;
    for (int64_t e : s)
      if (__builtin_mul_overflow(n, e, &n) || n > kMaxTensorElements)
        fail(path(key), what + shape_string(s) + " has more than " +
                            std::to_string(kMaxTensorElements) +
                            " elements (the per-tensor limit)");
  }
  const std::string& source() const { return source_; }

 private:
  const json& object_;
  std::string source_;
  std::string pointer_;
  std::string label_;
};

// Longest file name Linux file systems accept (NAME_MAX).
constexpr std::size_t kMaxFileNameBytes = 255;

// A file name inside the trace directory: not empty, no '/', no control characters (a NUL would
// cut the name short), not "." or "..", at most kMaxFileNameBytes.
bool is_plain_file_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxFileNameBytes || name == "." || name == "..") return false;
  for (unsigned char c : name)
    if (c == '/' || c < 0x20 || c == 0x7f) return false;
  return true;
}

// A layer name: 1 to kMaxNameBytes bytes, no '/' (the writer derives file names from it) and no
// NUL. Other characters are allowed: reports quote names (CSV) or escape them (messages, HTML).
bool is_layer_name(const std::string& name) {
  return !name.empty() && name.size() <= kMaxNameBytes &&
         name.find_first_of(std::string("/\0", 2)) == std::string::npos;
}

// Output extent of a sliding window; the caller has checked kernel <= in + 2 * pad (no overflow:
// extents are at most kMaxTensorElements and pad < kernel).
int64_t window_out(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

void validate_window(const Layer& l, const Fields& f) {
  const bool conv = l.type == LayerType::Conv;
  if (conv && (l.kernel_r > kMaxConvKernel || l.kernel_s > kMaxConvKernel))
    f.fail(f.path("kernel"), "conv kernel " + shape_string({l.kernel_r, l.kernel_s}) +
                                 " exceeds the limit of " + std::to_string(kMaxConvKernel) +
                                 " per side");
  if (l.pad >= l.kernel_r || l.pad >= l.kernel_s)
    f.fail(f.path("pad"), "must be smaller than the kernel");
  const char* axis_name[2] = {"height", "width"};
  const int64_t extent[2] = {l.in[2], l.in[3]};
  const int64_t kernel[2] = {l.kernel_r, l.kernel_s};
  for (int i = 0; i < 2; ++i) {
    // kernel_* and pad are at most kMaxTensorElements here (shape() bounds the kernel extents),
    // so the padded extent cannot overflow.
    const int64_t padded = extent[i] + 2 * l.pad;
    if (kernel[i] > padded)
      f.fail(f.path("kernel"), "kernel " + std::string(axis_name[i]) + " " +
                                   std::to_string(kernel[i]) + " is larger than the padded input " +
                                   std::string(axis_name[i]) + " " + std::to_string(padded));
    if (l.stride > padded)
      f.fail(f.path("stride"), std::to_string(l.stride) + " is larger than the padded input " +
                                   std::string(axis_name[i]) + " " + std::to_string(padded));
  }
}

void validate_geometry(const Layer& l, const Fields& f) {
  const bool fc = l.type == LayerType::Fc;
  const size_t rank = fc ? 2 : 4;
  if (l.in.size() != rank)
    f.fail(f.path("in"), "must have " + std::to_string(rank) + " dimensions");
  if (l.out.size() != rank)
    f.fail(f.path("out"), "must have " + std::to_string(rank) + " dimensions");
  if (l.out[0] != l.in[0]) f.fail(f.path("out"), "batch dimension differs from 'in'");
  switch (l.type) {
    case LayerType::Conv:
    case LayerType::AvgPool:
    case LayerType::MaxPool: {
      validate_window(l, f);
      const int64_t e = window_out(l.in[2], l.kernel_r, l.stride, l.pad);
      const int64_t w = window_out(l.in[3], l.kernel_s, l.stride, l.pad);
      if (l.out[2] != e || l.out[3] != w)
        f.fail(f.path("out"), "spatial size " + shape_string({l.out[2], l.out[3]}) +
                                  " does not follow from in " + shape_string(l.in) +
                                  ", kernel, stride and pad (expected " + shape_string({e, w}) +
                                  ")");
      if (l.type != LayerType::Conv && l.out[1] != l.in[1])
        f.fail(f.path("out"), "pooling must keep the channel count");
      break;
    }
    case LayerType::Bn:
    case LayerType::Relu:
    case LayerType::Add:
      if (l.out != l.in) f.fail(f.path("out"), "must equal 'in' for this layer type");
      break;
    case LayerType::Fc:
      break;
  }
  if (l.type == LayerType::Conv || l.type == LayerType::Fc) {
    f.check_elements(l.expected_shape("w"), l.type == LayerType::Conv ? "kernel" : "out",
                     "weight shape ");
    // Each factor is at most kMaxTensorElements (2^28) and y and w are bounded, so
    // y elements x (C*R*S) < 2^56: no overflow before the comparison.
    const int64_t macs = element_count(l.out) * (element_count(l.expected_shape("w")) / l.out[1]);
    if (macs > kMaxLayerMacs)
      f.fail(f.path("out"), std::to_string(macs) +
                                " multiply-accumulates per pass exceed the limit of " +
                                std::to_string(kMaxLayerMacs) + " per layer");
  }
}

// The marker only a TraceWriter creates: the manifest's format and version, and every file the
// writer put in the directory. Its presence (with nothing else in the directory but what it lists)
// is the proof that replacing the directory deletes nothing a user made.
constexpr const char* kMarkerFile = ".egtrace";
// A ResNet-110 trace has ~800 tensor files with names under 64 bytes (~50 KiB of marker); 1 MiB
// bounds what a forged marker can make us read.
constexpr std::size_t kMaxMarkerBytes = std::size_t{1} << 20;

struct Inspection {
  std::string refusal;               // why the directory may not be replaced; empty if it may
  std::vector<std::string> entries;  // its entries (all the writer's when refusal is empty)
};

// A trace may replace only what a trace writer could have made: nothing, an empty directory, or an
// earlier trace holding exactly its marker, manifest.json and the files the marker lists (regular
// files, no symbolic links). Anything else at that path is the user's and is left alone.
Inspection inspect_destination(const fs::path& dir) {
  Inspection out;
  std::error_code ec;
  const fs::file_type type = fs::symlink_status(dir, ec).type();
  if (type == fs::file_type::not_found) return out;
  if (type == fs::file_type::symlink) {
    out.refusal = "is a symbolic link; refusing to replace it with a trace";
    return out;
  }
  if (type != fs::file_type::directory) {
    out.refusal = "exists and is not a directory; refusing to replace it with a trace";
    return out;
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out.entries.push_back(it->path().filename().string());
  if (ec) {
    out.refusal = "cannot be listed (" + ec.message() + "); refusing to replace it";
    return out;
  }
  if (out.entries.empty()) return out;
  std::sort(out.entries.begin(), out.entries.end());  // the first foreign entry, deterministically
  const fs::path marker = dir / kMarkerFile;
  if (fs::symlink_status(marker, ec).type() != fs::file_type::regular) {
    out.refusal = std::string("exists and is not a trace (no ") + kMarkerFile +
                  " marker of the trace writer; found '" + out.entries.front() +
                  "'); refusing to replace it";
    return out;
  }
  std::set<std::string> ours{kMarkerFile, "manifest.json"};
  try {
    const json j = load_json_file(marker, kMaxMarkerBytes);
    if (!j.is_object() || j.value("format", json()) != kFormatName || !j.contains("files") ||
        !j["files"].is_array())
      throw Error(marker.string() + ": not a trace writer's marker");
    for (const json& f : j["files"]) {
      if (!f.is_string() || !is_plain_file_name(f.get<std::string>()))
        throw Error(marker.string() + ": /files: must hold plain file names");
      ours.insert(f.get<std::string>());
    }
  } catch (const Error& e) {
    out.refusal =
        std::string("has an unusable trace marker (") + e.what() + "); refusing to replace it";
    return out;
  }
  for (const std::string& entry : out.entries)
    if (!ours.count(entry) ||
        fs::symlink_status(dir / entry, ec).type() != fs::file_type::regular) {
      out.refusal = "holds '" + entry +
                    "', which the trace writer did not create; refusing to replace it (move it "
                    "out or choose another trace folder)";
      return out;
    }
  return out;
}

json marker_json(int version, const std::vector<std::string>& files) {
  return json{{"format", kFormatName}, {"version", version}, {"files", files}};
}

}  // namespace

void check_trace_destination(const fs::path& dir) {
  const std::string refusal = inspect_destination(dir).refusal;
  if (!refusal.empty()) throw Error(dir.string() + ": " + refusal);
  // The trace is built beside its destination: the nearest existing folder there must be writable.
  fs::path parent = dir.lexically_normal();
  if (parent.filename().empty()) parent = parent.parent_path();  // "trace/" names "trace"
  parent = parent.parent_path();
  std::error_code ec;
  while (!parent.empty() && fs::symlink_status(parent, ec).type() == fs::file_type::not_found &&
         parent != parent.parent_path())
    parent = parent.parent_path();
  check_writable_directory(parent.empty() ? fs::path(".") : parent);
}

std::string to_string(LayerType type) {
  for (const auto& [t, n] : type_names())
    if (t == type) return n;
  return "?";
}

LayerType layer_type_from_string(const std::string& text, const std::string& context) {
  for (const auto& [t, n] : type_names())
    if (text == n) return t;
  throw Error(context + ": unknown layer type " + single_quoted(text) +
              " (expected conv, fc, bn, relu, add, avgpool or maxpool)");
}

Shape Layer::expected_shape(const std::string& role) const {
  const bool weighted = type == LayerType::Conv || type == LayerType::Fc;
  if (type == LayerType::Conv && grad_filter > 0 &&
      std::find(grad_filter_roles().begin(), grad_filter_roles().end(), role) !=
          grad_filter_roles().end()) {
    const int64_t e = (out[2] + grad_filter - 1) / grad_filter,
                  f = (out[3] + grad_filter - 1) / grad_filter;
    if (role == "gy_filtered") return {out[0], out[1], e, f};
    if (role == "x_filtered") return {in[0], in[1], e, f};
    return {out[1], in[1], 1, 1};
  }
  if (role == "x" || role == "dx") return in;
  if (role == "y" || role == "dy") return out;
  const bool weight_shaped =
      role == "w" || role == "feedback" || role == "dw" || role == kPsgMaskRole ||
      std::find(update_roles().begin(), update_roles().end(), role) != update_roles().end();
  if (weighted && weight_shaped) {
    if (type == LayerType::Fc) return {out[1], in[1]};
    return {out[1], in[1], kernel_r, kernel_s};
  }
  throw Error("layer " + single_quoted(name) + " (" + to_string(type) + "): no tensor role '" +
              role + "'");
}

int64_t Layer::dense_macs() const {
  const std::string what = "layer " + single_quoted(name) + ": multiply-accumulates";
  if (type == LayerType::Conv)
    return checked_product(
        std::vector<int64_t>{out[0], out[1], out[2], out[3], in[1], kernel_r, kernel_s}, what);
  if (type == LayerType::Fc)
    return checked_product(std::vector<int64_t>{out[0], out[1], in[1]}, what);
  return 0;
}

namespace {
// Nesting depth of a JSON value (a scalar is 0), without recursion.
int json_depth(const json& root) {
  int deepest = 0;
  std::vector<std::pair<const json*, int>> stack{{&root, 0}};
  while (!stack.empty()) {
    const auto [j, depth] = stack.back();
    stack.pop_back();
    if (!j->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    if (deepest > kMaxJsonDepth) return deepest;
    for (const json& child : *j) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}
}  // namespace

const Layer* Manifest::find(const std::string& name) const {
  for (const Layer& l : layers)
    if (l.name == name) return &l;
  return nullptr;
}

json to_json(const Manifest& m) {
  json layers = json::array();
  for (const Layer& l : m.layers) {
    json j{{"name", l.name},
           {"type", to_string(l.type)},
           {"inputs", l.inputs},
           {"in", l.in},
           {"out", l.out}};
    if (l.type == LayerType::Conv || l.type == LayerType::AvgPool || l.type == LayerType::MaxPool) {
      j["kernel"] = {l.kernel_r, l.kernel_s};
      j["stride"] = l.stride;
      j["pad"] = l.pad;
    }
    j["tensors"] = l.tensors;
    if (l.frozen) j["frozen"] = true;
    if (l.grad_filter > 0) j["grad_filter"] = json{{"r", l.grad_filter}};
    json stats{{"dy_nonzero_fraction", l.stats.dy_nonzero_fraction},
               {"dy_nonzero_fraction_before_pruning", l.stats.dy_nonzero_fraction_before_pruning},
               {"tau", l.stats.tau},
               {"angle_to_bp_deg", l.stats.angle_to_bp_deg}};
    if (!l.stats.extra.empty()) stats["extra"] = l.stats.extra;
    j["stats"] = stats;
    if (l.psg)
      j["psg"] =
          json{{"tau", l.psg->tau}, {"full_precision_fraction", l.psg->full_precision_fraction}};
    layers.push_back(std::move(j));
  }
  json out{{"format", kFormatName},
           {"version", m.version()},
           {"network", m.network},
           {"dataset", m.dataset},
           {"mode", m.mode},
           {"pruning_rate", m.pruning_rate},
           {"sigma_estimator", m.sigma_estimator},
           {"seed", m.seed},
           {"iteration", m.iteration},
           {"batch", m.batch},
           {"layers", layers}};
  if (m.optimizer)
    out["optimizer"] = json{{"type", m.optimizer->type},
                            {"lr", m.optimizer->lr},
                            {"momentum", m.optimizer->momentum},
                            {"weight_decay", m.optimizer->weight_decay}};
  if (m.slu) {
    json blocks = json::array();
    for (const SluBlock& b : m.slu->blocks)
      blocks.push_back(json{{"name", b.name},
                            {"layers", b.layers},
                            {"gate_layers", b.gate_layers},
                            {"mask", b.mask},
                            {"probabilities", b.probabilities}});
    out["slu"] = json{{"alpha", m.slu->alpha}, {"blocks", blocks}};
    if (m.slu->target_skip) out["slu"]["target_skip"] = *m.slu->target_skip;
  }
  if (m.smd)
    out["smd"] = json{{"drop_prob", m.smd->drop_prob},
                      {"executed_iteration", m.smd->executed_iteration},
                      {"nominal_iterations", m.smd->nominal_iterations},
                      {"executed_iterations", m.smd->executed_iterations}};
  if (m.weight_gradient) {
    const WeightGradientRule& g = *m.weight_gradient;
    out["weight_gradient"] = json{{"rule", g.rule},
                                  {"beta", g.beta},
                                  {"bits",
                                   {{"x", g.bits_x},
                                    {"w", g.bits_w},
                                    {"gy", g.bits_gy},
                                    {"x_msb", g.bits_x_msb},
                                    {"gy_msb", g.bits_gy_msb}}}};
  }
  return out;
}

namespace {

std::vector<std::string> layer_list(const Fields& f, const std::string& key,
                                    const std::unordered_map<std::string, size_t>& index,
                                    std::set<std::string>& seen) {
  const json& v = f.raw(key);
  if (!v.is_array()) f.fail(f.path(key), "must be an array of layer names");
  std::vector<std::string> out;
  for (const json& name : v) {
    if (!name.is_string()) f.fail(f.path(key), "must be an array of layer names");
    const std::string n = name.get<std::string>();
    if (!index.count(n)) f.fail(f.path(key), single_quoted(n) + " is not a layer of the manifest");
    if (!seen.insert(n).second)
      f.fail(f.path(key), single_quoted(n) + " belongs to more than one gated block");
    out.push_back(n);
  }
  return out;
}

Slu slu_from_json(const Fields& top, const std::unordered_map<std::string, size_t>& index) {
  Fields sf(top.raw("slu"), top.source(), "/slu");
  sf.allow_only({"alpha", "target_skip", "blocks"});
  Slu slu;
  slu.alpha = sf.number("alpha");  // negative when the controller rewards running blocks
  if (sf.has("target_skip")) {
    slu.target_skip = sf.number("target_skip");
    if (!(*slu.target_skip >= 0.0 && *slu.target_skip < 1.0))
      sf.fail(sf.path("target_skip"), "must be in [0, 1)");
  }
  const json& blocks = sf.raw("blocks");
  if (!blocks.is_array()) sf.fail(sf.path("blocks"), "must be an array");
  std::set<std::string> seen, names, files;
  for (size_t i = 0; i < blocks.size(); ++i) {
    Fields bf(blocks[i], top.source(), "/slu/blocks/" + std::to_string(i));
    bf.allow_only({"name", "layers", "gate_layers", "mask", "probabilities"});
    SluBlock b;
    b.name = bf.string("name");
    if (!is_layer_name(b.name) || !names.insert(b.name).second)
      bf.fail(bf.path("name"), "must be a unique name of 1 to " + std::to_string(kMaxNameBytes) +
                                   " bytes without '/' or NUL");
    b.layers = layer_list(bf, "layers", index, seen);
    if (b.layers.empty()) bf.fail(bf.path("layers"), "must name at least one layer");
    b.gate_layers = layer_list(bf, "gate_layers", index, seen);
    for (const char* key : {"mask", "probabilities"}) {
      const std::string file = bf.string(key);
      if (!is_plain_file_name(file) || !files.insert(file).second)
        bf.fail(bf.path(key), "must be a file name inside the trace directory, used once");
      (std::string(key) == "mask" ? b.mask : b.probabilities) = file;
    }
    slu.blocks.push_back(std::move(b));
  }
  return slu;
}

}  // namespace

Manifest manifest_from_json(const json& j, const std::string& source) {
  Fields top(j, source, "");
  if (top.string("format") != kFormatName) top.fail("/format", "must be \"egtrace\"");
  const int64_t version = top.integer("version", 0);
  if (version < kOldestFormatVersion || version > kFormatVersion)
    top.fail("/version", "is " + std::to_string(version) + ", this reader supports " +
                             std::to_string(kOldestFormatVersion) + " to " +
                             std::to_string(kFormatVersion));
  std::set<std::string> top_keys{
      "format", "version",   "network", "dataset", "mode", "pruning_rate",    "sigma_estimator",
      "seed",   "iteration", "batch",   "layers",  "smd",  "weight_gradient", "slu"};
  if (version >= 2) top_keys.insert("optimizer");
  top.allow_only(top_keys);
  Manifest m;
  if (version >= 2) {
    // Bounds are what an SGD step can be: a negative rate or decay would ascend the loss, a
    // momentum of 1 or more never forgets a gradient (and diverges); the trainer's config refuses
    // the same values.
    Fields of(top.raw("optimizer"), source, "/optimizer");
    of.allow_only({"type", "lr", "momentum", "weight_decay"});
    Optimizer o;
    o.type = of.string("type");
    if (o.type != "sgd")
      of.fail(of.path("type"), "unknown optimizer " + single_quoted(o.type) + " (expected sgd)");
    o.lr = of.number("lr");
    if (!(o.lr >= 0.0)) of.fail(of.path("lr"), "must be >= 0");
    o.momentum = of.number("momentum");
    if (!(o.momentum >= 0.0 && o.momentum < 1.0)) of.fail(of.path("momentum"), "must be in [0, 1)");
    o.weight_decay = of.number("weight_decay");
    if (!(o.weight_decay >= 0.0)) of.fail(of.path("weight_decay"), "must be >= 0");
    m.optimizer = o;
  }
  m.network = top.string("network");
  m.dataset = top.string("dataset");
  m.mode = top.string("mode");
  if (!kModes.count(m.mode)) top.fail("/mode", "unknown mode " + single_quoted(m.mode));
  m.pruning_rate = top.number("pruning_rate");
  if (!(m.pruning_rate >= 0.0 && m.pruning_rate < 1.0))
    top.fail("/pruning_rate", "must be in [0, 1)");
  m.sigma_estimator = top.string("sigma_estimator");
  if (!kSigmaEstimators.count(m.sigma_estimator))
    top.fail("/sigma_estimator", "unknown estimator " + single_quoted(m.sigma_estimator));
  m.seed = top.unsigned_integer("seed");
  m.iteration = top.integer("iteration", 1);
  m.batch = top.integer("batch", 1, kMaxTensorElements);
  if (top.has("smd")) {
    // Counts that a run can produce: the traced step is one the run executed, within its nominal
    // schedule, and no more mini-batches execute after it than nominal iterations remain.
    Fields sf(top.raw("smd"), source, "/smd");
    sf.allow_only({"drop_prob", "executed_iteration", "nominal_iterations", "executed_iterations"});
    MiniBatchDropping d;
    d.drop_prob = sf.number("drop_prob");
    if (!(d.drop_prob >= 0.0 && d.drop_prob < 1.0))
      sf.fail(sf.path("drop_prob"), "must be in [0, 1)");
    d.executed_iteration = sf.integer("executed_iteration", 1, m.iteration);
    d.nominal_iterations = sf.integer("nominal_iterations", m.iteration);
    d.executed_iterations = sf.integer("executed_iterations", d.executed_iteration,
                                       d.executed_iteration + (d.nominal_iterations - m.iteration));
    m.smd = d;
  }
  if (top.has("weight_gradient")) {
    Fields gf(top.raw("weight_gradient"), source, "/weight_gradient");
    gf.allow_only({"rule", "beta", "bits"});
    WeightGradientRule g;
    g.rule = gf.string("rule");
    if (g.rule != "psg")
      gf.fail(gf.path("rule"), "unknown rule " + single_quoted(g.rule) + " (expected psg)");
    g.beta = gf.number("beta");
    if (!(g.beta >= 0.0 && g.beta <= 1.0)) gf.fail(gf.path("beta"), "must be in [0, 1]");
    Fields bf(gf.raw("bits"), source, "/weight_gradient/bits");
    bf.allow_only({"x", "w", "gy", "x_msb", "gy_msb"});
    // Bounded by what a fake-quantised float32 value can carry (a 24-bit significand).
    constexpr int64_t kMaxBits = 24;
    g.bits_x = static_cast<int>(bf.integer("x", 2, kMaxBits));
    g.bits_w = static_cast<int>(bf.integer("w", 2, kMaxBits));
    g.bits_gy = static_cast<int>(bf.integer("gy", 2, kMaxBits));
    g.bits_x_msb = static_cast<int>(bf.integer("x_msb", 2, g.bits_x));
    g.bits_gy_msb = static_cast<int>(bf.integer("gy_msb", 2, g.bits_gy));
    m.weight_gradient = g;
  }
  const json& layers = top.raw("layers");
  if (!layers.is_array() || layers.empty()) top.fail("/layers", "must be a non-empty array");

  std::unordered_map<std::string, size_t> index;  // name -> position: linear in the layer count
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string where = "/layers/" + std::to_string(i);
    Fields f(layers[i], source, where);
    Layer l;
    l.name = f.string("name");
    if (!is_layer_name(l.name))
      f.fail(f.path("name"),
             "must be 1 to " + std::to_string(kMaxNameBytes) + " bytes without '/' or NUL");
    Fields lf(layers[i], source, where, " (layer " + single_quoted(l.name) + ")");
    if (index.count(l.name)) lf.fail(lf.path("name"), "duplicate layer name");
    l.type = layer_type_from_string(lf.string("type"), source + ": " + lf.path("type"));
    const bool windowed =
        l.type == LayerType::Conv || l.type == LayerType::AvgPool || l.type == LayerType::MaxPool;
    if (windowed)
      lf.allow_only({"name", "type", "inputs", "in", "out", "kernel", "stride", "pad", "tensors",
                     "stats", "frozen", "grad_filter", "psg"});
    else
      lf.allow_only({"name", "type", "inputs", "in", "out", "tensors", "stats", "frozen", "psg"});
    if (lf.has("frozen")) {
      if (!lf.raw("frozen").is_boolean()) lf.fail(lf.path("frozen"), "must be true or false");
      l.frozen = lf.raw("frozen").get<bool>();
    }
    if (lf.has("grad_filter")) {
      if (l.type != LayerType::Conv)
        lf.fail(lf.path("grad_filter"), "only a conv layer is gradient-filtered");
      Fields gf(lf.raw("grad_filter"), source, lf.path("grad_filter"),
                " (layer " + single_quoted(l.name) + ")");
      gf.allow_only({"r"});
      l.grad_filter = gf.integer("r", 2, kMaxGradFilterPatch);
    }
    const json& inputs = lf.raw("inputs");
    if (!inputs.is_array()) lf.fail(lf.path("inputs"), "must be an array of layer names");
    for (const json& in : inputs) {
      if (!in.is_string()) lf.fail(lf.path("inputs"), "must be an array of layer names");
      l.inputs.push_back(in.get<std::string>());
    }
    l.in = lf.shape("in");
    l.out = lf.shape("out");
    if (l.in[0] != m.batch) lf.fail(lf.path("in"), "batch dimension must equal the manifest batch");
    if (windowed) {
      Shape k = lf.shape("kernel");
      if (k.size() != 2) lf.fail(lf.path("kernel"), "must be [R, S]");
      l.kernel_r = k[0];
      l.kernel_s = k[1];
      // Not bounded here: validate_window compares them with the padded input, naming the layer.
      l.stride = lf.integer("stride", 1);
      l.pad = lf.integer("pad", 0);
    }
    validate_geometry(l, lf);
    if (l.type == LayerType::Add && l.inputs.size() != 2)
      lf.fail(lf.path("inputs"), "an add layer takes two inputs");
    if (l.type != LayerType::Add && l.inputs.size() > 1)
      lf.fail(lf.path("inputs"), "a " + to_string(l.type) + " layer takes at most one input");
    for (const std::string& producer : l.inputs) {
      const auto at = index.find(producer);
      if (at == index.end())
        lf.fail(lf.path("inputs"), single_quoted(producer) + " is not an earlier layer");
      const Layer& p = m.layers[at->second];
      if (element_count(p.out) != element_count(l.in))
        lf.fail(lf.path("in"), "size " + shape_string(l.in) + " does not match producer '" +
                                   producer + "' output " + shape_string(p.out));
    }
    const json& tensors = lf.raw("tensors");
    if (!tensors.is_object()) lf.fail(lf.path("tensors"), "must be an object of role -> file name");
    for (auto it = tensors.begin(); it != tensors.end(); ++it) {
      const std::string field = lf.path("tensors") + "/" + pointer_token(it.key());
      const bool update_role =
          std::find(update_roles().begin(), update_roles().end(), it.key()) != update_roles().end();
      if (update_role && version < 2)
        lf.fail(field, "is a version 2 tensor role (this trace is version " +
                           std::to_string(version) + ")");
      const bool filter_role = std::find(grad_filter_roles().begin(), grad_filter_roles().end(),
                                         it.key()) != grad_filter_roles().end();
      if (filter_role && l.grad_filter == 0)
        lf.fail(field, "is a gradient filtering role, but the layer has no grad_filter");
      const bool psg_role = it.key() == kPsgMaskRole;
      if ((!update_role && !filter_role && !psg_role &&
           std::find(all_roles().begin(), all_roles().end(), it.key()) == all_roles().end()) ||
          ((update_role || psg_role || it.key() == "w" || it.key() == "feedback" ||
            it.key() == "dw") &&
           l.type != LayerType::Conv && l.type != LayerType::Fc))
        lf.fail(field, "is not a tensor role of a " + to_string(l.type) + " layer");
      if (!it.value().is_string() || !is_plain_file_name(it.value().get<std::string>()))
        lf.fail(field, "must be a file name inside the trace directory");
      l.tensors[it.key()] = it.value().get<std::string>();
    }
    Fields sf(lf.raw("stats"), source, lf.path("stats"), " (layer " + single_quoted(l.name) + ")");
    sf.allow_only({"dy_nonzero_fraction", "dy_nonzero_fraction_before_pruning", "tau",
                   "angle_to_bp_deg", "extra"});
    l.stats.dy_nonzero_fraction = sf.number("dy_nonzero_fraction");
    l.stats.dy_nonzero_fraction_before_pruning = sf.number("dy_nonzero_fraction_before_pruning");
    for (const char* key : {"dy_nonzero_fraction", "dy_nonzero_fraction_before_pruning"}) {
      const double v = sf.number(key);
      if (!(v >= 0.0 && v <= 1.0)) sf.fail(sf.path(key), "must be in [0, 1]");
    }
    l.stats.tau = sf.number("tau");
    if (!(l.stats.tau >= 0.0)) sf.fail(sf.path("tau"), "must be >= 0");
    l.stats.angle_to_bp_deg = sf.number("angle_to_bp_deg");
    if (!(l.stats.angle_to_bp_deg >= 0.0 && l.stats.angle_to_bp_deg <= 180.0))
      sf.fail(sf.path("angle_to_bp_deg"), "must be in [0, 180]");
    if (sf.has("extra")) {
      const json& extra = sf.raw("extra");
      if (!extra.is_object()) sf.fail(sf.path("extra"), "must be an object");
      // Copying recurses once per nesting level: refuse what the JSON reader would refuse, even
      // when the document did not come through it.
      if (json_depth(extra) > kMaxJsonDepth)
        sf.fail(sf.path("extra"),
                "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      l.stats.extra = extra;
    }
    if (lf.has("psg")) {
      if (!m.weight_gradient || (l.type != LayerType::Conv && l.type != LayerType::Fc))
        lf.fail(lf.path("psg"), m.weight_gradient ? "only conv and fc layers have a psg record"
                                                  : "needs the top-level weight_gradient record");
      Fields pf(lf.raw("psg"), source, lf.path("psg"), " (layer " + single_quoted(l.name) + ")");
      pf.allow_only({"tau", "full_precision_fraction"});
      PsgLayer p;
      p.tau = pf.number("tau");
      if (!(p.tau >= 0.0)) pf.fail(pf.path("tau"), "must be >= 0");
      p.full_precision_fraction = pf.number("full_precision_fraction");
      if (!(p.full_precision_fraction >= 0.0 && p.full_precision_fraction <= 1.0))
        pf.fail(pf.path("full_precision_fraction"), "must be in [0, 1]");
      l.psg = p;
    }
    if (l.tensors.count(kPsgMaskRole) && !l.psg)
      lf.fail(lf.path("tensors") + "/" + kPsgMaskRole, "needs the layer's psg record");
    index.emplace(l.name, m.layers.size());
    m.layers.push_back(std::move(l));
  }
  if (top.has("slu")) m.slu = slu_from_json(top, index);
  return m;
}

Trace Trace::open(const fs::path& dir) {
  const fs::path manifest_path = dir / "manifest.json";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(dir.string() + ": trace directory does not exist or is not a directory");
  Trace t;
  t.dir_ = dir;
  t.manifest_ =
      manifest_from_json(load_json_file(manifest_path, kMaxManifestBytes), manifest_path.string());
  for (const Layer& l : t.manifest_.layers) {
    for (const auto& [role, file] : l.tensors) {
      const fs::path p = dir / file;
      if (fs::symlink_status(p, ec).type() == fs::file_type::not_found)
        throw Error(p.string() + ": missing (layer " + single_quoted(l.name) + " tensor '" + role +
                    "')");
      const Shape shape = read_npy_shape(p);
      const Shape want = l.expected_shape(role);
      if (shape != want)
        throw Error(p.string() + ": shape " + shape_string(shape) + " does not match layer " +
                    single_quoted(l.name) + " tensor '" + role + "' " + shape_string(want));
    }
  }
  if (t.manifest_.slu) {
    const Shape want{t.manifest_.batch};
    for (const SluBlock& b : t.manifest_.slu->blocks) {
      auto read = [&](const std::string& file) {
        const fs::path p = dir / file;
        if (fs::symlink_status(p, ec).type() == fs::file_type::not_found)
          throw Error(p.string() + ": missing (slu block " + single_quoted(b.name) + ")");
        NdArray a = read_npy(p);
        if (a.shape != want)
          throw Error(p.string() + ": shape " + shape_string(a.shape) +
                      " does not match the batch " + shape_string(want) + " (slu block " +
                      single_quoted(b.name) + ")");
        return a;
      };
      const NdArray mask = read(b.mask), prob = read(b.probabilities);
      std::vector<uint8_t>& m = t.slu_masks_[b.name];
      std::vector<int64_t> active;
      for (size_t i = 0; i < mask.data.size(); ++i) {
        if (mask.data[i] != 0.0f && mask.data[i] != 1.0f)
          throw Error((dir / b.mask).string() + ": element " + std::to_string(i) +
                      " is not 0 or 1 (slu block " + single_quoted(b.name) + ")");
        if (!(prob.data[i] >= 0.0f && prob.data[i] <= 1.0f))
          throw Error((dir / b.probabilities).string() + ": element " + std::to_string(i) +
                      " is not a probability in [0, 1] (slu block " + single_quoted(b.name) + ")");
        m.push_back(mask.data[i] == 1.0f ? 1 : 0);
        if (m.back()) active.push_back(static_cast<int64_t>(i));
      }
      for (const std::string& l : b.layers) t.active_samples_[l] = active;
    }
  }
  return t;
}

const std::vector<int64_t>* Trace::active_samples(const std::string& layer) const {
  auto it = active_samples_.find(layer);
  return it == active_samples_.end() ? nullptr : &it->second;
}

const std::vector<uint8_t>* Trace::slu_mask(const std::string& block) const {
  auto it = slu_masks_.find(block);
  return it == slu_masks_.end() ? nullptr : &it->second;
}

bool Trace::has(const Layer& layer, const std::string& role) const {
  return layer.tensors.count(role) > 0;
}

NdArray Trace::load(const Layer& layer, const std::string& role) const {
  auto it = layer.tensors.find(role);
  if (it == layer.tensors.end())
    throw Error((dir_ / "manifest.json").string() + ": layer " + single_quoted(layer.name) +
                " has no tensor '" + role + "'");
  NdArray a = read_npy(dir_ / it->second);
  if (a.shape != layer.expected_shape(role))
    throw Error((dir_ / it->second).string() + ": shape " + shape_string(a.shape) +
                " does not match layer " + single_quoted(layer.name) + " tensor '" + role + "'");
  return a;
}

TraceWriter::TraceWriter(fs::path dir) : dir_(std::move(dir)) {
  if (dir_.filename().empty()) dir_ = dir_.parent_path();
  if (dir_.empty() || dir_.filename() == "." || dir_.filename() == "..")
    throw Error("'" + dir_.string() + "': a trace needs a folder name of its own");
  check_trace_destination(dir_);
  const fs::path parent = dir_.parent_path().empty() ? fs::path(".") : dir_.parent_path();
  parents_ = NewDirs(parent);
  tmp_ = make_unique_temp_dir(parent, dir_.filename().string() + ".partial");
  // mkdtemp makes it private (0700); the trace it becomes is readable like any other folder.
  std::error_code ec;
  fs::permissions(tmp_, fs::perms(0755), ec);
}

TraceWriter::~TraceWriter() {
  if (!committed_ && !tmp_.empty()) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);  // made by mkdtemp for this writer: provably ours
  }
}

void TraceWriter::write_tensor(Layer& layer, const std::string& role, const float* data) {
  const Shape shape = layer.expected_shape(role);
  const std::string file = layer.name + "." + role + ".npy";
  write_npy(tmp_ / file, shape, data);
  layer.tensors[role] = file;
}

void TraceWriter::write_array(const std::string& file, const Shape& shape, const float* data) {
  if (!is_plain_file_name(file))
    throw std::logic_error("trace: '" + file + "' is not a file name inside the trace");
  write_npy(tmp_ / file, shape, data);
}

void TraceWriter::commit(const Manifest& manifest) {
  const json j = to_json(manifest);
  (void)manifest_from_json(j,
                           (dir_ / "manifest.json").string());  // never write an invalid manifest
  std::set<std::string> listed;
  std::error_code ec;
  for (const Layer& l : manifest.layers)
    for (const auto& [role, file] : l.tensors) {
      if (fs::symlink_status(tmp_ / file, ec).type() != fs::file_type::regular)
        throw Error((dir_ / file).string() + ": layer '" + l.name + "' tensor '" + role +
                    "' was never written");
      listed.insert(file);
    }
  if (manifest.slu)
    for (const SluBlock& b : manifest.slu->blocks)
      for (const std::string& file : {b.mask, b.probabilities}) {
        if (fs::symlink_status(tmp_ / file, ec).type() != fs::file_type::regular)
          throw Error((dir_ / file).string() + ": slu block '" + b.name +
                      "' file was never written");
        listed.insert(file);
      }
  // Tensors written for layers the manifest left out would be files no manifest lists.
  std::vector<fs::path> unlisted;
  for (fs::directory_iterator it(tmp_, ec), end; !ec && it != end; it.increment(ec))
    if (!listed.count(it->path().filename().string())) unlisted.push_back(it->path());
  for (const fs::path& p : unlisted) fs::remove_all(p, ec);
  write_file_atomic(tmp_ / "manifest.json", j.dump(1) + "\n");
  write_file_atomic(
      tmp_ / kMarkerFile,
      marker_json(manifest.version(), std::vector<std::string>(listed.begin(), listed.end()))
              .dump(1) +
          "\n");

  check_trace_destination(dir_);  // again: the path may have changed since construction
  const fs::path parent = tmp_.parent_path();
  fs::path holder, previous;
  if (fs::symlink_status(dir_, ec).type() != fs::file_type::not_found) {
    holder = make_unique_temp_dir(parent, dir_.filename().string() + ".old");
    previous = holder / "trace";
    if (::rename(dir_.c_str(), previous.c_str()) != 0) {
      const int err = errno;
      ::rmdir(holder.c_str());
      throw Error(dir_.string() + ": cannot move the earlier trace aside (" + errno_text(err) +
                  ")");
    }
    // Checked once more where it now lies, so a file added since the check above is never
    // deleted: the earlier trace goes back and the write is refused.
    const Inspection old = inspect_destination(previous);
    if (!old.refusal.empty()) {
      ::rename(previous.c_str(), dir_.c_str());
      ::rmdir(holder.c_str());
      throw Error(dir_.string() + ": " + old.refusal);
    }
  }
  if (::rename(tmp_.c_str(), dir_.c_str()) != 0) {
    const int err = errno;
    if (!previous.empty()) {
      ::rename(previous.c_str(), dir_.c_str());
      ::rmdir(holder.c_str());
    }
    throw Error(dir_.string() + ": cannot move the trace into place (" + errno_text(err) + ")");
  }
  committed_ = true;
  parents_.keep();
  if (!previous.empty()) {
    // Exactly the files the earlier writer listed, one by one; then the emptied folders.
    for (const std::string& entry : inspect_destination(previous).entries)
      ::unlink((previous / entry).c_str());
    ::rmdir(previous.c_str());
    ::rmdir(holder.c_str());
  }
}

}  // namespace eg::trace
