#include "sw/train/checkpoint_header.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "sw/train/slu.hpp"
#include "sw/train/smd.hpp"

namespace eg::train {
namespace {

using nlohmann::json;

class Checker {
 public:
  explicit Checker(const std::string& file) : file_(file) {}

  [[noreturn]] void fail(const std::string& pointer, const std::string& problem) const {
    throw Error(file_ + ": " + pointer + ": " + problem);
  }

  // `j` must be an object with exactly `keys`.
  void object_with(const json& j, const std::string& pointer,
                   const std::vector<std::string>& keys) const {
    if (!j.is_object()) fail(pointer.empty() ? "/" : pointer, "must be a JSON object");
    for (const std::string& k : keys)
      if (!j.contains(k)) fail(pointer + "/" + k, "missing");
    for (auto it = j.begin(); it != j.end(); ++it)
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end())
        fail(pointer + "/" + it.key(), "unknown key");
  }

  int64_t integer(const json& j, const std::string& pointer, int64_t lo, int64_t hi) const {
    const std::string range =
        "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    if (!j.is_number_integer()) fail(pointer, range);
    if (j.is_number_unsigned() && j.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      fail(pointer, range);
    const int64_t v = j.get<int64_t>();
    if (v < lo || v > hi) fail(pointer, range + ", not " + std::to_string(v));
    return v;
  }

  void exact(const json& j, const std::string& pointer, int64_t want) const {
    integer(j, pointer, want, want);
  }

  double number(const json& j, const std::string& pointer, double lo, double hi) const {
    if (!j.is_number() || !std::isfinite(j.get<double>()) || j.get<double>() < lo ||
        j.get<double>() > hi) {
      std::string range = "must be a finite number >= " + text(lo);
      if (hi < std::numeric_limits<double>::max()) range += " and <= " + text(hi);
      fail(pointer, range);
    }
    return j.get<double>();
  }

  // One row of per-layer statistics, as collect_layer_stats writes it.
  void layer_row(const json& j, const std::string& p, const std::string& layer,
                 int64_t bins) const {
    object_with(j, p,
                {"name", "dy_nonzero_fraction", "dy_nonzero_fraction_before_pruning", "tau",
                 "angle_to_bp_deg", "sigma", "dy_histogram"});
    if (!j["name"].is_string() || j["name"].get<std::string>() != layer)
      fail(p + "/name", "must be \"" + layer + "\" (this network's weighted layer)");
    number(j["dy_nonzero_fraction"], p + "/dy_nonzero_fraction", 0, 1);
    number(j["dy_nonzero_fraction_before_pruning"], p + "/dy_nonzero_fraction_before_pruning", 0,
           1);
    number(j["tau"], p + "/tau", 0, kAny);
    number(j["angle_to_bp_deg"], p + "/angle_to_bp_deg", 0, 180);
    number(j["sigma"], p + "/sigma", 0, kAny);
    const json& h = j["dy_histogram"];
    const std::string hp = p + "/dy_histogram";
    object_with(h, hp, {"counts", "std", "range_std", "of"});
    if (!h["counts"].is_array() || int64_t(h["counts"].size()) != bins)
      fail(hp + "/counts", "must be an array of " + std::to_string(bins) + " counts");
    for (size_t i = 0; i < h["counts"].size(); ++i)
      integer(h["counts"][i], hp + "/counts/" + std::to_string(i), 0,
              std::numeric_limits<int64_t>::max());
    number(h["std"], hp + "/std", 0, kAny);
    number(h["range_std"], hp + "/range_std", 0, kAny);
    if (!h["of"].is_string()) fail(hp + "/of", "must be a string");
  }

  // A list of layer rows: empty (no statistics recorded yet) or one per weighted layer.
  void layer_rows(const json& j, const std::string& p, const CheckpointExpectation& e,
                  bool may_be_empty) const {
    const size_t n = e.layers.size();
    if (!j.is_array() || (j.size() != n && !(may_be_empty && j.empty())))
      fail(p, "must be an array of " + std::to_string(n) +
                  " rows, one per weighted layer of this network");
    for (size_t i = 0; i < j.size(); ++i)
      layer_row(j[i], p + "/" + std::to_string(i), e.layers[i], e.histogram_bins);
  }

  static constexpr double kAny = std::numeric_limits<double>::max();

 private:
  static std::string text(double v) {
    std::string s = std::to_string(v);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  std::string file_;
};

void check_config(const Checker& ck, const json& saved, const json& expected,
                  const std::string& file) {
  if (!saved.is_object()) ck.fail("/config", "must be a JSON object");
  for (auto it = expected.begin(); it != expected.end(); ++it)
    if (!saved.contains(it.key()) || saved[it.key()] != it.value())
      throw Error(file + ": key '" + it.key() + "' is " +
                  (saved.contains(it.key()) ? saved[it.key()].dump() : "absent") +
                  " in the checkpoint but " + it.value().dump() + " in this run");
  for (auto it = saved.begin(); it != saved.end(); ++it)
    if (!expected.contains(it.key()))
      ck.fail("/config/" + it.key(), "not a key of this run's config");
}

}  // namespace

void check_checkpoint_header(const json& header, const std::string& file,
                             const CheckpointExpectation& e) {
  const Checker ck(file);
  ck.object_with(header, "", {"config", "progress"});
  check_config(ck, header["config"], e.config, file);

  const json& p = header["progress"];
  std::vector<std::string> progress_keys{"epoch",    "batch_in_epoch",  "iteration",
                                         "loss_sum", "correct",         "seen",
                                         "history",  "last_layer_stats"};
  // An SLU run also saves its controller's α and the epoch's skip sums (trainer.cpp).
  const bool slu = p.is_object() && p.contains("slu");
  if (slu) progress_keys.push_back("slu");
  ck.object_with(p, "/progress", progress_keys);
  if (slu) {
    const json& s = p["slu"];
    ck.object_with(s, "/progress/slu", {"alpha", "alpha_integral", "skipped", "steps"});
    for (const char* key : {"alpha", "alpha_integral"})
      if (!s[key].is_number() || !std::isfinite(s[key].get<double>()) ||
          std::fabs(s[key].get<double>()) > kSluAlphaMax)
        ck.fail(std::string("/progress/slu/") + key, "must be a finite number in [-10, 10]");
    (void)ck.integer(s["steps"], "/progress/slu/steps", 0, e.batches_per_epoch);
    if (!s["skipped"].is_array()) ck.fail("/progress/slu/skipped", "must be an array of numbers");
    for (const json& v : s["skipped"])
      if (!v.is_number() || !(v.get<double>() >= 0.0) ||
          v.get<double>() > double(s["steps"].get<int64_t>()))
        ck.fail("/progress/slu/skipped", "each entry must be in [0, steps]");
  }
  const int64_t epoch = ck.integer(p["epoch"], "/progress/epoch", 0, e.epochs);
  // A run that completed every epoch is saved at the start of the next one; a save at the end of
  // an epoch's last mini-batch (checkpoint-every) may precede the epoch's own save.
  const int64_t bie = ck.integer(p["batch_in_epoch"], "/progress/batch_in_epoch", 0,
                                 epoch == e.epochs ? 0 : e.batches_per_epoch);
  const std::string what = file + ": /progress/iteration";
  ck.exact(p["iteration"], "/progress/iteration",
           checked_add(checked_mul(epoch, e.batches_per_epoch, what), bie, what));
  // Samples of the epoch's executed mini-batches (all of them without dropping).
  const MiniBatchDropper smd(e.seed, e.smd_drop_prob);
  const int64_t epoch_start = epoch * e.batches_per_epoch;  // checked just above
  const int64_t seen = checked_mul(smd.executed_between(epoch_start, epoch_start + bie), e.batch,
                                   file + ": /progress/seen");
  ck.exact(p["seen"], "/progress/seen", seen);
  ck.integer(p["correct"], "/progress/correct", 0, seen);
  ck.number(p["loss_sum"], "/progress/loss_sum", 0, Checker::kAny);

  const json& history = p["history"];
  if (!history.is_array() || int64_t(history.size()) != epoch)
    ck.fail("/progress/history",
            "must be an array of " + std::to_string(epoch) + " rows, one per completed epoch");
  int64_t executed = 0;  // by the end of row i's epoch
  for (size_t i = 0; i < history.size(); ++i) {
    const std::string rp = "/progress/history/" + std::to_string(i);
    const json& row = history[i];
    // Rows written before mini-batch dropping existed have no executed count; without dropping
    // it may be absent (every iteration ran), with dropping it is required.
    const bool counted =
        !row.is_object() || row.contains("executed_iterations") || e.smd_drop_prob > 0;
    std::vector<std::string> keys{"epoch",     "iterations", "partial",  "lr",    "train_loss",
                                  "train_acc", "test_loss",  "test_acc", "layers"};
    if (counted) keys.push_back("executed_iterations");
    // An SLU run's epoch rows carry its skip record (written by this trainer, shown as is).
    if (slu && row.is_object() && row.contains("slu")) {
      keys.push_back("slu");
      if (!row["slu"].is_object()) ck.fail(rp + "/slu", "must be an object");
    }
    ck.object_with(row, rp, keys);
    const int64_t n = int64_t(i) + 1;
    ck.exact(row["epoch"], rp + "/epoch", n);
    ck.exact(row["iterations"], rp + "/iterations",
             checked_mul(n, e.batches_per_epoch, file + ": " + rp));
    executed += smd.executed_between((n - 1) * e.batches_per_epoch, n * e.batches_per_epoch);
    if (counted) ck.exact(row["executed_iterations"], rp + "/executed_iterations", executed);
    if (row["partial"] != false) ck.fail(rp + "/partial", "must be false for a completed epoch");
    ck.number(row["lr"], rp + "/lr", 0, Checker::kAny);
    ck.number(row["train_loss"], rp + "/train_loss", 0, Checker::kAny);
    ck.number(row["train_acc"], rp + "/train_acc", 0, 1);
    ck.number(row["test_loss"], rp + "/test_loss", 0, Checker::kAny);
    ck.number(row["test_acc"], rp + "/test_acc", 0, 1);
    ck.layer_rows(row["layers"], rp + "/layers", e, /*may_be_empty=*/true);
  }
  ck.layer_rows(p["last_layer_stats"], "/progress/last_layer_stats", e, /*may_be_empty=*/true);
}

}  // namespace eg::train
