#include "sw/train/trainer.hpp"

#include "sw/train/conv2d.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <sstream>

#include "base/checked.hpp"
#include "base/csv.hpp"
#include "base/error.hpp"
#include "base/new_dirs.hpp"
#include "base/owned_dir.hpp"
#include "sw/train/batchnorm.hpp"
#include "sw/train/checkpoint.hpp"
#include "sw/train/checkpoint_header.hpp"
#include "sw/train/conv2d.hpp"
#include "sw/train/data_source.hpp"
#include "sw/train/limits.hpp"
#include "sw/train/parallel.hpp"
#include "sw/train/random.hpp"
#include "sw/train/resnet.hpp"
#include "sw/train/sgd.hpp"
#include "sw/train/slu.hpp"
#include "sw/train/smd.hpp"
#include "sw/train/trace_export.hpp"
#include "sw/train/train_step.hpp"
#include "sw/train/update_rule.hpp"
#include "workloads/trace.hpp"

namespace eg::train {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json result_config(const TrainConfig& c) {
  json all = to_json(c), kept = json::object();
  for (auto it = all.begin(); it != all.end(); ++it)
    if (!is_run_only_key(it.key())) kept[it.key()] = it.value();
  return kept;
}

// Loop position and the running sums of the current epoch: with the tensors, the whole state.
struct Progress {
  int64_t epoch = 0;           // 0-based epoch in progress
  int64_t batch_in_epoch = 0;  // mini-batches of it already done
  int64_t iteration = 0;       // mini-batches done in total
  double loss_sum = 0.0;
  int64_t correct = 0, seen = 0;
  json history = json::array();  // completed epochs
  json last_layer_stats = json::array();
  // SLU: α and its integral term as the controller left them, and the epoch's skipped (block,
  // sample) pairs per block.
  std::optional<double> slu_alpha;
  double slu_alpha_integral = 0.0;
  std::vector<double> slu_skipped;
  int64_t slu_steps = 0;

  json to_json() const {
    json j{{"epoch", epoch},         {"batch_in_epoch", batch_in_epoch},
           {"iteration", iteration}, {"loss_sum", loss_sum},
           {"correct", correct},     {"seen", seen},
           {"history", history},     {"last_layer_stats", last_layer_stats}};
    if (slu_alpha)
      j["slu"] = {{"alpha", *slu_alpha},
                  {"alpha_integral", slu_alpha_integral},
                  {"skipped", slu_skipped},
                  {"steps", slu_steps}};
    return j;
  }
  static Progress from_json(const json& j) {
    Progress p;
    p.epoch = j.at("epoch");
    p.batch_in_epoch = j.at("batch_in_epoch");
    p.iteration = j.at("iteration");
    p.loss_sum = j.at("loss_sum");
    p.correct = j.at("correct");
    p.seen = j.at("seen");
    p.history = j.at("history");
    p.last_layer_stats = j.at("last_layer_stats");
    if (j.contains("slu")) {
      p.slu_alpha = j.at("slu").at("alpha").get<double>();
      p.slu_alpha_integral = j.at("slu").at("alpha_integral").get<double>();
      p.slu_skipped = j.at("slu").at("skipped").get<std::vector<double>>();
      p.slu_steps = j.at("slu").at("steps");
    }
    return p;
  }
};

json collect_layer_stats(Network& net) {
  json rows = json::array();
  for (const Node& node : net.nodes())
    if (auto* w = dynamic_cast<const WeightedLayer*>(node.layer.get())) {
      const trace::LayerStats s = layer_stats(*w);
      rows.push_back({{"name", node.name},
                      {"dy_nonzero_fraction", s.dy_nonzero_fraction},
                      {"dy_nonzero_fraction_before_pruning", s.dy_nonzero_fraction_before_pruning},
                      {"tau", s.tau},
                      {"angle_to_bp_deg", s.angle_to_bp_deg},
                      {"sigma", s.extra["sigma"]},
                      {"dy_histogram", s.extra["dy_histogram"]}});
      if (w->psg().on) {
        rows.back()["psg_tau"] = w->psg_decision().tau;
        rows.back()["psg_predictor_fraction"] = 1.0 - w->psg_decision().full_precision_fraction();
      }
    }
  return rows;
}

struct Evaluation {
  double loss = 0.0, accuracy = 0.0;
};

Evaluation evaluate(Network& net, const Dataset& test, int64_t eval_batch) {
  Evaluation e;
  if (test.count() == 0) return e;
  Tensor x;
  std::vector<int> y;
  std::vector<int64_t> idx;
  double loss_sum = 0.0;
  int64_t correct = 0;
  for (int64_t start = 0; start < test.count(); start += eval_batch) {
    const int64_t n = std::min(eval_batch, test.count() - start);
    idx.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) idx[i] = start + i;
    make_batch(test, idx.data(), n, Augment{}, 0, x, y);
    const LossResult r = softmax_cross_entropy(net.forward(x, false), y, nullptr);
    loss_sum += r.loss * n;
    correct += r.correct;
  }
  e.loss = loss_sum / test.count();
  e.accuracy = double(correct) / test.count();
  return e;
}

// Stochastic weight averaging (Izmailov et al., UAI 2018): the running mean of every parameter
// at the ends of the averaged epochs.
struct WeightAverage {
  std::vector<Tensor> mean;
  int64_t count = 0;

  void add(Network& net) {
    const std::vector<Param*> params = net.params();
    if (mean.empty())
      for (Param* p : params) mean.push_back(p->value);
    else
      for (size_t i = 0; i < params.size(); ++i) {
        const float keep = float(count) / float(count + 1), take = 1.0f / float(count + 1);
        float* m = mean[i].ptr();
        const float* w = params[i]->value.ptr();
        for (int64_t j = 0; j < mean[i].size(); ++j) m[j] = keep * m[j] + take * w[j];
      }
    ++count;
  }
};

// Evaluates the averaged model: the mean weights with BN statistics recomputed over one pass of
// the training set in its stored order (the averaged weights never ran, so the trained running
// statistics do not belong to them), then puts the trained weights and statistics back.
Evaluation evaluate_average(Network& net, const WeightAverage& avg, const Dataset& train,
                            const Dataset& test, int64_t batch, int64_t eval_batch) {
  const std::vector<Param*> params = net.params();
  std::vector<Tensor> kept_weights;
  for (size_t i = 0; i < params.size(); ++i) {
    kept_weights.push_back(params[i]->value);
    params[i]->value = avg.mean[i];
  }
  std::vector<BatchNorm*> bns;
  std::vector<Tensor> kept_buffers;
  std::vector<double> kept_momenta;
  for (Node& node : net.nodes())
    if (auto* bn = dynamic_cast<BatchNorm*>(node.layer.get())) {
      bns.push_back(bn);
      kept_momenta.push_back(bn->momentum());
      for (Tensor* t : bn->buffers()) kept_buffers.push_back(*t);
    }
  for (BatchNorm* bn : bns) {
    std::vector<Tensor*> b = bn->buffers();
    std::fill(b[0]->data.begin(), b[0]->data.end(), 0.0f);
    std::fill(b[1]->data.begin(), b[1]->data.end(), 1.0f);
  }
  Tensor x;
  std::vector<int> y;
  std::vector<int64_t> idx(static_cast<size_t>(batch));
  for (int64_t k = 0; (k + 1) * batch <= train.count(); ++k) {
    for (BatchNorm* bn : bns) bn->set_momentum(1.0 / double(k + 1));
    for (int64_t i = 0; i < batch; ++i) idx[size_t(i)] = k * batch + i;
    make_batch(train, idx.data(), batch, Augment{}, 0, x, y);
    net.forward(x, true);
  }
  const Evaluation e = evaluate(net, test, eval_batch);
  size_t at = 0;
  for (size_t i = 0; i < bns.size(); ++i) {
    bns[i]->set_momentum(kept_momenta[i]);
    for (Tensor* t : bns[i]->buffers()) *t = kept_buffers[at++];
  }
  for (size_t i = 0; i < params.size(); ++i) params[i]->value = kept_weights[i];
  return e;
}

// For messages: short ("0.5", "0.25").
std::string short_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

std::string fmt(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  return os.str();
}

// What egtrain writes into --out; only these, and only over earlier copies egtrain wrote.
const std::vector<std::string>& output_files() {
  static const std::vector<std::string> files{"metrics.json", "metrics.csv", "layer_stats.csv",
                                              "checkpoint.bin"};
  return files;
}

// True when `inner` is `outer` or lies inside it (symbolic links resolved where they exist).
bool is_within(const fs::path& inner, const fs::path& outer) {
  const auto resolved = [](const fs::path& p) {
    std::error_code ec;
    fs::path r = fs::weakly_canonical(fs::absolute(p), ec);
    return (ec ? fs::absolute(p).lexically_normal() : r).lexically_normal();
  };
  const fs::path a = resolved(inner), b = resolved(outer);
  const auto [ib, ia] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return ib == b.end() || (std::next(ib) == b.end() && ib->empty());
}

// The three metrics files as one all-or-nothing write.
void write_metrics(OwnedDir& out, const json& metrics) {
  std::ostringstream csv, layers;
  // executed_iterations is last so that readers of the earlier columns by position still work.
  csv << "epoch,iterations,partial,lr,train_loss,train_acc,test_loss,test_acc,"
         "executed_iterations\n";
  layers << "epoch,layer,dy_nonzero_fraction,dy_nonzero_fraction_before_pruning,tau,"
            "angle_to_bp_deg\n";
  for (const json& row : metrics.at("epochs")) {
    csv << row["epoch"].get<int64_t>() << "," << row["iterations"].get<int64_t>() << ","
        << (row["partial"].get<bool>() ? 1 : 0) << "," << fmt(row["lr"]) << ","
        << fmt(row["train_loss"]) << "," << fmt(row["train_acc"]) << "," << fmt(row["test_loss"])
        << "," << fmt(row["test_acc"]) << "," << row["executed_iterations"].get<int64_t>() << "\n";
    for (const json& l : row["layers"])
      layers << row["epoch"].get<int64_t>() << "," << csv_field(l["name"].get<std::string>()) << ","
             << fmt(l["dy_nonzero_fraction"]) << "," << fmt(l["dy_nonzero_fraction_before_pruning"])
             << "," << fmt(l["tau"]) << "," << fmt(l["angle_to_bp_deg"]) << "\n";
  }
  out.write_all({{"metrics.json", metrics.dump(1) + "\n"},
                 {"metrics.csv", csv.str()},
                 {"layer_stats.csv", layers.str()}});
}

// A checkpoint from before mini-batch dropping existed ran without it: its config has no drop
// probability. Anything malformed is left for check_checkpoint_header to name.
void upgrade_checkpoint_config(json& header) {
  if (!header.is_object() || !header.contains("config") || !header["config"].is_object()) return;
  json& config = header["config"];
  if (!config.contains("smd-drop-prob")) config["smd-drop-prob"] = 0.0;
  // Nor gradient filtering or fine-tuning, from before those existed.
  if (!config.contains("grad-filter")) config["grad-filter"] = 0;
  if (!config.contains("trainable-last")) config["trainable-last"] = 0;
  if (!config.contains("init-from")) config["init-from"] = "";
  if (!config.contains("train-range")) config["train-range"] = "";
  // ... and one from before PSG and SWA used the exact weight gradient and no averaging.
  const std::pair<const char*, json> defaults[] = {
      {"weight-gradient", "exact"}, {"psg-beta", 0.05}, {"swa", false}, {"swa-start-epoch", 1}};
  for (const auto& [key, value] : defaults)
    if (!config.contains(key)) config[key] = value;
  // Nor selective layer update.
  if (!config.contains("slu")) {
    const TrainConfig fresh;
    config["slu"] = fresh.slu;
    config["slu-alpha"] = fresh.slu_alpha;
    config["slu-target-skip"] = fresh.slu_target_skip;
  }
}

// Training images [BEGIN, END) of the (normalised) training split.
void select_train_range(const TrainConfig& c, Dataset& train) {
  const TrainRange r = parse_train_range(c.train_range, c.source);
  if (r.end > train.count())
    throw Error(c.source + ": key 'train-range': END " + std::to_string(r.end) +
                " is beyond the training set (" + std::to_string(train.count()) + " samples)");
  const int64_t size = train.image_size();
  train.images.erase(train.images.begin() + r.end * size, train.images.end());
  train.images.erase(train.images.begin(), train.images.begin() + r.begin * size);
  train.labels.erase(train.labels.begin() + r.end, train.labels.end());
  train.labels.erase(train.labels.begin(), train.labels.begin() + r.begin);
}

// --trainable-last and --grad-filter: which nodes train, which conv layers filter, BN statistics
// frozen. Returns whether the run fine-tunes (anything frozen or filtered).
bool configure_fine_tuning(const TrainConfig& c, Network& net, std::ostream& log) {
  if (c.grad_filter == 0 && c.trainable_last == 0) return false;
  std::vector<size_t> convs;
  auto& nodes = net.nodes();
  for (size_t i = 1; i < nodes.size(); ++i)
    if (dynamic_cast<Conv2d*>(nodes[i].layer.get())) convs.push_back(i);
  const int64_t count = static_cast<int64_t>(convs.size());
  if (c.trainable_last > count)
    throw Error(c.source + ": key 'trainable-last': " + std::to_string(c.trainable_last) +
                " exceeds the " + std::to_string(count) + " conv layers of " + c.network);
  const int64_t k = c.trainable_last > 0 ? c.trainable_last : count;
  // The last K conv layers in forward order train, with the BN each feeds and every non-conv
  // weighted layer (the fc head, which the paper trains too) after the first of them.
  const size_t first = convs[static_cast<size_t>(count - k)];
  std::vector<char> trainable(nodes.size(), 0);
  for (size_t i = first; i < nodes.size(); ++i) {
    Layer* layer = nodes[i].layer.get();
    if (auto* conv = dynamic_cast<Conv2d*>(layer)) {
      trainable[i] = std::find(convs.end() - k, convs.end(), i) != convs.end();
      if (trainable[i]) conv->set_grad_filter(c.grad_filter);
    } else if (dynamic_cast<BatchNorm*>(layer)) {
      trainable[i] = trainable[static_cast<size_t>(nodes[i].inputs.at(0))];
    } else {
      trainable[i] = !layer->params().empty();
    }
  }
  for (Node& node : nodes)
    if (auto* bn = dynamic_cast<BatchNorm*>(node.layer.get())) bn->set_frozen_statistics(true);
  net.set_trainable(std::move(trainable));
  log << "fine-tuning: the last " << k << " of " << count << " conv layers train";
  if (c.grad_filter > 0) log << ", gradient filter " << c.grad_filter << "x" << c.grad_filter;
  log << "; BN statistics frozen\n";
  return true;
}

// --init-from: weights and BN statistics of another run's checkpoint; the momentum starts at zero
// (a new optimisation).
void init_from_checkpoint(const TrainConfig& c, Network& net, std::ostream& log) {
  const json header = load_checkpoint(c.init_from, net);
  // A checkpoint of another width or class count fails on its size; one of the same size but
  // another architecture is caught here.
  const json* cfg = header.is_object() && header.contains("config") ? &header["config"] : nullptr;
  if (!cfg || !cfg->is_object() || !cfg->contains("network") || !(*cfg)["network"].is_string())
    throw Error(c.init_from + ": /config/network: missing; not an egtrain checkpoint");
  if ((*cfg)["network"] != c.network)
    throw Error(c.init_from + ": /config/network: the checkpoint is of " +
                (*cfg)["network"].get<std::string>() + ", this run trains " + c.network);
  for (Param* p : net.params()) p->momentum.zero();
  log << "weights and BN statistics from " << c.init_from << "\n";
}

}  // namespace

bool is_run_only_key(const std::string& key) {
  static const std::vector<std::string> keys{"out",       "trace-out", "trace-iteration",
                                             "resume",    "log-every", "checkpoint-every",
                                             "iterations"};
  for (const auto& k : keys)
    if (k == key) return true;
  return false;
}

json run_training(const TrainConfig& c, std::ostream& log) {
  // Outputs are checked before any data is read or any step taken: a --trace-out that is not a
  // trace, or an --out that cannot be written or holds a file egtrain did not write, fails now.
  if (!c.trace_out.empty()) {
    trace::check_trace_destination(c.trace_out);
    if (!c.out.empty() && is_within(c.out, c.trace_out))
      throw Error(c.source + ": key 'out': '" + c.out + "' lies inside --trace-out '" +
                  c.trace_out + "', which holds only the trace; choose folders side by side");
  }
  NewDirs created;  // removed again (while empty) if the run fails
  std::optional<OwnedDir> out_dir;
  if (!c.out.empty()) {
    created = NewDirs(c.out);
    out_dir = OwnedDir::claim(c.out, "egtrain", output_files());
  }

  set_thread_count(static_cast<int>(c.threads));
  conv_backend() = c.conv_backend == "im2col" ? ConvBackend::Im2col : ConvBackend::Onednn;
  WeightedLayer::histogram_spec() = {static_cast<int>(c.histogram_bins), c.histogram_range_std};
  // The run's memory is estimated before anything large is allocated: synthetic data before it
  // is generated, data files once read (their loaders bound them by kMaxDatasetBytes).
  const bool synthetic = c.dataset == "synthetic";
  if (synthetic)
    check_run_memory(
        c, c.synthetic_channels, c.synthetic_height, c.synthetic_width,
        checked_product(std::vector<int64_t>{c.synthetic_train_size + c.synthetic_test_size,
                                             c.synthetic_channels, c.synthetic_height,
                                             c.synthetic_width, int64_t(sizeof(float))},
                        c.source + ": synthetic data set"));
  DataSplit data = load_data(c);
  if (!c.train_range.empty()) select_train_range(c, data.train);
  if (!synthetic)
    check_run_memory(
        c, data.train.channels, data.train.height, data.train.width,
        int64_t(data.train.images.size() + data.test.images.size()) * int64_t(sizeof(float)));
  const int64_t batches_per_epoch = data.train.count() / c.batch;
  if (batches_per_epoch == 0)
    throw Error(c.source + ": key 'batch': " + std::to_string(c.batch) +
                " is larger than the training set (" + std::to_string(data.train.count()) +
                " samples)");
  ResNetSpec spec;
  spec.arch = c.network;
  spec.channels = data.train.channels;
  spec.height = data.train.height;
  spec.width_px = data.train.width;
  spec.width = c.width;
  spec.classes = data.train.classes;
  spec.seed = c.seed;
  spec.bn_momentum = c.bn_momentum;
  spec.bn_eps = c.bn_eps;
  std::shared_ptr<SluControl> slu_control;
  if (c.slu) {
    slu_control =
        std::make_shared<SluControl>(SluControl{c.slu_alpha, c.slu_target_skip, c.slu_alpha});
    spec.slu = true;
    spec.slu_control = slu_control;
  }
  Network net = build_resnet(spec);
  const std::vector<SluState*> slu_states = slu_blocks(net);
  for (const Node& node : net.nodes())
    if (auto* w = dynamic_cast<WeightedLayer*>(node.layer.get()))
      w->set_psg({c.weight_gradient == "psg", c.psg_beta});
  const bool fine_tuning = configure_fine_tuning(c, net, log);

  StepSettings step;
  step.mode = mode_from_string(c.mode);
  step.pruning_rate = c.pruning_rate;
  step.sigma_estimator = sigma_estimator_from_string(c.sigma_estimator);
  step.seed = c.seed;
  // A config built in code (not parsed) may still say "auto".
  const UpdateRule update =
      c.update == "auto" ? default_update_rule(step.mode) : update_rule_from_string(c.update);
  SgdSettings sgd;
  sgd.lr = update == UpdateRule::Manhattan ? c.manhattan_lr : c.lr;
  sgd.momentum = c.momentum;
  sgd.weight_decay = c.weight_decay;
  sgd.schedule = lr_schedule_from_string(c.lr_schedule);
  sgd.step_epochs = c.lr_step_epochs;
  sgd.gamma = c.lr_gamma;
  Augment augment{c.augment, c.crop_pad, true};

  const int64_t planned = checked_mul(c.epochs, batches_per_epoch, c.source + ": epochs");
  const int64_t limit = c.iterations > 0 ? std::min(c.iterations, planned) : planned;
  // A trace iteration the run never reaches would end with no trace and no message.
  if (c.trace_iteration > limit)
    throw Error(c.source + ": key 'trace-iteration': " + std::to_string(c.trace_iteration) +
                " is beyond the run's last iteration " + std::to_string(limit) + " (" +
                std::to_string(c.epochs) + " epochs x " + std::to_string(batches_per_epoch) +
                " mini-batches" +
                (c.iterations > 0 && c.iterations < planned
                     ? ", limited by iterations = " + std::to_string(c.iterations)
                     : std::string()) +
                ")");
  // Mini-batch dropping: whether a nominal iteration runs is known up front (smd.hpp), so the
  // trace step and the executed counts are too.
  const MiniBatchDropper smd(c.seed, c.smd_drop_prob);
  const int64_t trace_at = c.trace_iteration > 0 ? smd.trace_iteration_at(c.trace_iteration) : 0;
  if (c.trace_iteration > 0 && trace_at == 0)
    throw Error(c.source + ": key 'trace-iteration': smd-drop-prob " +
                short_number(c.smd_drop_prob) + " drops every mini-batch up to iteration " +
                std::to_string(c.trace_iteration) +
                ", so there is no step to trace (choose a later one)");
  const int64_t executed_planned = smd.executed_through(limit);
  if (c.smd_drop_prob > 0) {
    log << "mini-batch dropping: p = " << short_number(c.smd_drop_prob) << ", " << executed_planned
        << " of " << limit << " mini-batches execute";
    if (trace_at > 0 && trace_at != c.trace_iteration)
      log << "; iteration " << c.trace_iteration << " is dropped, so the trace is taken at "
          << trace_at << ", the last executed one before it";
    log << "\n";
  }
  const json config_echo = result_config(c);
  const fs::path out = c.out;
  const fs::path ckpt = out / "checkpoint.bin";

  Progress p;
  std::error_code exists_error;
  const bool has_checkpoint = c.resume && fs::exists(ckpt, exists_error);
  if (c.resume && exists_error)
    throw Error(ckpt.string() + ": cannot look for a checkpoint (" + exists_error.message() + ")");
  if (has_checkpoint) {
    json header = load_checkpoint(ckpt, net);
    upgrade_checkpoint_config(header);
    CheckpointExpectation expected;
    expected.config = config_echo;
    expected.epochs = c.epochs;
    expected.batches_per_epoch = batches_per_epoch;
    expected.batch = c.batch;
    for (const Node& node : net.nodes())
      if (dynamic_cast<const WeightedLayer*>(node.layer.get()))
        expected.layers.push_back(node.name);
    expected.histogram_bins = c.histogram_bins;
    expected.seed = c.seed;
    expected.smd_drop_prob = c.smd_drop_prob;
    check_checkpoint_header(header, ckpt.string(), expected);
    p = Progress::from_json(header.at("progress"));
    // Epoch rows from before mini-batch dropping (the check allows them only without it) ran
    // every iteration.
    for (json& row : p.history)
      if (!row.contains("executed_iterations")) row["executed_iterations"] = row["iterations"];
    if (p.iteration > limit)
      throw Error(ckpt.string() + ": /progress/iteration: " + std::to_string(p.iteration) +
                  " is beyond this run's last iteration " + std::to_string(limit) +
                  " (raise iterations to continue it)");
    if (trace_at > 0 && p.iteration >= trace_at)
      throw Error(c.source + ": key 'trace-iteration': the checkpoint " + ckpt.string() +
                  " is already at iteration " + std::to_string(p.iteration) + ", so iteration " +
                  std::to_string(c.trace_iteration) +
                  (trace_at != c.trace_iteration
                       ? " (traced at " + std::to_string(trace_at) + ", mini-batch dropping)"
                       : std::string()) +
                  " would never be traced");
    log << "resuming from " << ckpt.string() << " at iteration " << p.iteration << "\n";
  } else {
    if (c.resume) log << "no checkpoint at " << ckpt.string() << "; starting from scratch\n";
    if (!c.init_from.empty()) init_from_checkpoint(c, net, log);
  }
  // Only the trainable parameters step (all of them unless fine-tuning): frozen ones keep their
  // values, momentum and weight decay untouched.
  const std::vector<Param*> train_params = fine_tuning ? net.trainable_params() : net.params();

  auto metrics_json = [&](const json& rows) {
    return json{
        {"format", "egtrain-metrics"}, {"version", 1}, {"config", config_echo}, {"epochs", rows}};
  };
  auto save = [&] {
    if (out_dir)
      out_dir->write(
          "checkpoint.bin",
          checkpoint_bytes(json{{"config", config_echo}, {"progress", p.to_json()}}, net));
  };
  if (slu_control) {
    if (!p.slu_alpha) {
      p.slu_alpha = c.slu_alpha;
      p.slu_alpha_integral = c.slu_alpha;
    }
    slu_control->alpha = *p.slu_alpha;
    slu_control->integral = p.slu_alpha_integral;
    p.slu_skipped.resize(slu_states.size(), 0.0);
  }
  // The epoch's SLU record: α now, and each gated block's skip ratio averaged over the epoch's
  // executed mini-batches (overall: over every gated block and sample).
  auto slu_row = [&] {
    json blocks = json::array();
    double sum = 0.0;
    for (size_t b = 0; b < slu_states.size(); ++b) {
      const double skip = p.slu_steps ? p.slu_skipped[b] / double(p.slu_steps) : 0.0;
      blocks.push_back({{"name", slu_states[b]->block}, {"skip", skip}});
      sum += skip;
    }
    return json{{"alpha", slu_control->alpha},
                {"target_skip", c.slu_target_skip},
                {"skip", slu_states.empty() ? 0.0 : sum / double(slu_states.size())},
                {"blocks", blocks}};
  };
  int64_t executed = smd.executed_through(p.iteration);  // mini-batches trained so far
  auto epoch_row = [&](bool partial) {
    const Evaluation ev = evaluate(net, data.test, c.eval_batch);
    json row{{"epoch", p.epoch + 1},
             {"iterations", p.iteration},
             {"executed_iterations", executed},
             {"partial", partial},
             {"lr", learning_rate(sgd, p.epoch, std::max<int64_t>(0, p.iteration - 1), planned)},
             {"train_loss", p.seen ? p.loss_sum / p.seen : 0.0},
             {"train_acc", p.seen ? double(p.correct) / p.seen : 0.0},
             {"test_loss", ev.loss},
             {"test_acc", ev.accuracy},
             {"layers", p.last_layer_stats}};
    if (slu_control) row["slu"] = slu_row();
    return row;
  };

  WeightAverage swa;
  Tensor x;
  std::vector<int> y;
  double step_seconds = 0.0, first_step_seconds = 0.0;
  int64_t step_images = 0;
  json last_metrics = metrics_json(p.history);
  // Progress line and checkpoint after each nominal iteration, executed or dropped.
  auto after_iteration = [&] {
    if (c.log_every > 0 && p.iteration % c.log_every == 0 && p.seen > 0 && step_seconds > 0) {
      char line[240];
      std::snprintf(line, sizeof line,
                    "epoch %lld iter %lld/%lld loss %.4f acc %.2f%% %.1f img/s lr %.5f",
                    (long long)p.epoch + 1, (long long)p.iteration, (long long)limit,
                    p.loss_sum / p.seen, 100.0 * p.correct / p.seen, step_images / step_seconds,
                    learning_rate(sgd, p.epoch, p.iteration - 1, planned));
      log << line;
      if (c.smd_drop_prob > 0) log << " (" << executed << " executed)";
      if (slu_control)
        log << " slu skip " << short_number(100.0 * slu_skip(net).overall) << "% alpha "
            << short_number(slu_control->alpha);
      log << "\n" << std::flush;
    }
    if (c.checkpoint_every > 0 && p.iteration % c.checkpoint_every == 0) save();
  };
  while (p.iteration < limit) {
    const std::vector<int64_t> order = epoch_order(data.train.count(), c.seed, p.epoch);
    const uint64_t aug_key = stream_key({c.seed, uint64_t(Stream::Augment), uint64_t(p.epoch)});
    while (p.batch_in_epoch < batches_per_epoch && p.iteration < limit) {
      const int64_t iteration = p.iteration + 1;
      if (smd.dropped(iteration)) {
        // Skipped whole: the data order, learning rate and every other draw stay on the nominal
        // schedule, so the following mini-batches are the ones they would have been.
        p.iteration = iteration;
        ++p.batch_in_epoch;
        after_iteration();
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      const bool tracing = !c.trace_out.empty() && iteration == trace_at;
      // The epoch's row reports the layer stats of its last executed mini-batch.
      const int64_t epoch_end = std::min(limit, p.iteration - p.batch_in_epoch + batches_per_epoch);
      bool last_executed = true;
      for (int64_t later = iteration + 1; later <= epoch_end && last_executed; ++later)
        last_executed = smd.dropped(later);
      const bool record = tracing || last_executed;
      make_batch(data.train, order.data() + p.batch_in_epoch * c.batch, c.batch, augment,
                 stream_key({aug_key, uint64_t(p.batch_in_epoch)}), x, y);
      const LossResult r = forward_backward(net, x, y, step, iteration, record);
      // A diverged run stops here: epochs of NaN updates would end in a trace of NaN tensors.
      if (!std::isfinite(r.loss))
        throw Error("training diverged: the loss of mini-batch " + std::to_string(iteration) +
                    " (epoch " + std::to_string(p.epoch + 1) + ") is " +
                    (std::isnan(r.loss) ? "NaN" : "infinite") +
                    "; a lower learning rate (--lr, or --manhattan-lr for sign updates) may train");
      const double lr = learning_rate(sgd, p.epoch, p.iteration, planned);
      if (tracing) {
        trace::Manifest m;
        m.network = c.network;
        m.dataset = c.dataset;
        m.mode = c.mode;
        m.pruning_rate = c.pruning_rate;
        m.sigma_estimator = c.sigma_estimator;
        m.seed = c.seed;
        m.iteration = iteration;
        m.batch = c.batch;
        if (c.smd_drop_prob > 0)
          m.smd = trace::MiniBatchDropping{c.smd_drop_prob, executed + 1, limit, executed_planned};
        if (slu_control) {
          trace::Slu slu;
          slu.alpha = slu_control->alpha;
          if (c.slu_target_skip >= 0) slu.target_skip = c.slu_target_skip;
          m.slu = slu;  // blocks, masks and probabilities: write_trace fills them
        }
        if (c.weight_gradient == "psg")
          m.weight_gradient = trace::WeightGradientRule{"psg", c.psg_beta};
        // A PSG trace's w is the 8-bit weight the layers multiplied, not the master weight the
        // step updates: it carries no update check (version 1), like a Batch Manhattan trace.
        if (update == UpdateRule::Sgd && c.weight_gradient != "psg") {
          m.optimizer = trace::Optimizer{"sgd", lr, sgd.momentum, sgd.weight_decay};
          // The trace holds the step's inputs and results: write_trace takes the step in between.
          write_trace(c.trace_out, net, m, [&] {
            apply_update(update, slu_updated_params(net, train_params), sgd, lr);
          });
        } else {
          // The trace format's update check knows SGD only: a Batch Manhattan step is traced as a
          // version 1 trace (no optimizer, no post-step tensors), with the step taken after it.
          write_trace(c.trace_out, net, m);
          apply_update(update, slu_updated_params(net, train_params), sgd, lr);
        }
        log << "trace of iteration " << iteration << " written to " << c.trace_out << "\n";
      } else {
        apply_update(update, slu_updated_params(net, train_params), sgd, lr);
      }
      if (slu_control) {
        const SluSkip skip = slu_skip(net);
        for (size_t b = 0; b < skip.per_block.size(); ++b) p.slu_skipped[b] += skip.per_block[b];
        ++p.slu_steps;
        step_slu_control(*slu_control, skip.overall);
        p.slu_alpha = slu_control->alpha;
        p.slu_alpha_integral = slu_control->integral;
      }
      if (record) p.last_layer_stats = collect_layer_stats(net);
      p.loss_sum += r.loss * c.batch;
      p.correct += r.correct;
      p.seen += c.batch;
      p.iteration = iteration;
      ++p.batch_in_epoch;
      ++executed;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (step_images == 0) first_step_seconds = seconds;
      step_seconds += seconds;
      step_images += c.batch;
      after_iteration();
    }
    if (p.batch_in_epoch == batches_per_epoch) {
      p.history.push_back(epoch_row(false));
      const json& row = p.history.back();
      char line[200];
      std::snprintf(line, sizeof line,
                    "epoch %lld done: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%%\n",
                    (long long)p.epoch + 1, row["train_loss"].get<double>(),
                    100 * row["train_acc"].get<double>(), row["test_loss"].get<double>(),
                    100 * row["test_acc"].get<double>());
      log << line << std::flush;
      if (c.swa && p.epoch + 1 >= c.swa_start_epoch) {
        swa.add(net);
        // The averaged model is evaluated after the run's last epoch only (it costs a pass over
        // the training set for the BN statistics).
        if (p.iteration >= limit) {
          const Evaluation ev =
              evaluate_average(net, swa, data.train, data.test, c.batch, c.eval_batch);
          json& swa_row = p.history.back();
          swa_row["swa_epochs_averaged"] = swa.count;
          swa_row["swa_test_loss"] = ev.loss;
          swa_row["swa_test_acc"] = ev.accuracy;
          char swa_line[160];
          std::snprintf(swa_line, sizeof swa_line,
                        "averaged model (%lld epochs): test loss %.4f acc %.2f%%\n",
                        (long long)swa.count, ev.loss, 100 * ev.accuracy);
          log << swa_line;
        }
      }
      ++p.epoch;
      p.batch_in_epoch = 0;
      p.loss_sum = 0.0;
      p.correct = p.seen = 0;
      std::fill(p.slu_skipped.begin(), p.slu_skipped.end(), 0.0);
      p.slu_steps = 0;
      last_metrics = metrics_json(p.history);
      if (out_dir) write_metrics(*out_dir, last_metrics);
      save();
    } else {
      // Stopped inside an epoch by --iterations: report it as a partial row, keep the position.
      json rows = p.history;
      rows.push_back(epoch_row(true));
      last_metrics = metrics_json(rows);
      if (out_dir) write_metrics(*out_dir, last_metrics);
      save();
      break;
    }
  }
  if (step_seconds > 0) {
    // The first iteration of a run also allocates every buffer and compiles the convolution
    // kernels; the steady-state figure leaves it out, as benchmarks of other frameworks do.
    const int64_t steps = step_images / c.batch;
    char line[200];
    std::snprintf(line, sizeof line, "train throughput: %.1f images/s over %lld iterations",
                  step_images / step_seconds, (long long)steps);
    log << line;
    if (steps > 1 && step_seconds > first_step_seconds) {
      std::snprintf(line, sizeof line, "; steady state (after the first): %.1f images/s",
                    (step_images - c.batch) / (step_seconds - first_step_seconds));
      log << line;
    }
    log << "\n" << std::flush;
  }
  created.keep();
  return last_metrics;
}

}  // namespace eg::train
