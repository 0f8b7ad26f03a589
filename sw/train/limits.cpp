#include "sw/train/limits.hpp"

#include <algorithm>
#include <cstdio>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "sw/train/config.hpp"
#include "sw/train/resnet.hpp"

namespace eg::train {

namespace {

std::string gib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1 << 30));
  return text;
}

}  // namespace

void check_run_memory(const TrainConfig& c, int64_t channels, int64_t height, int64_t width,
                      int64_t dataset_bytes) {
  ResNetSpec spec;
  spec.arch = c.network;
  spec.channels = channels;
  spec.height = height;
  spec.width_px = width;
  spec.width = c.width;
  const std::string what = c.source + ": estimated run size";
  const ResNetSize size = resnet_size(spec);
  const bool im2col = c.conv_backend == "im2col";
  const int64_t per_train =
      im2col ? kTrainBytesPerConvOutputIm2col : kTrainBytesPerConvOutputOnednn;
  const int64_t per_eval = im2col ? kEvalBytesPerConvOutputIm2col : kEvalBytesPerConvOutputOnednn;
  const int64_t eval_extra = std::max<int64_t>(0, c.eval_batch - c.batch);
  const int64_t activations =
      checked_mul(checked_add(checked_mul(c.batch, per_train, what),
                              checked_mul(eval_extra, per_eval, what), what),
                  size.conv_outputs_per_sample, what);
  const int64_t parameters = checked_mul(size.parameters, kRunBytesPerParameter, what);
  const int64_t total =
      checked_add(checked_add(activations, parameters, what), dataset_bytes, what);
  if (total > kMaxRunBytes)
    throw Error(c.source + ": key '" + (c.eval_batch > c.batch ? "eval-batch" : "batch") +
                "': the run would need about " + gib(total) + " (activations " + gib(activations) +
                " for batch " + std::to_string(c.batch) + " and eval-batch " +
                std::to_string(c.eval_batch) + ", parameters " + gib(parameters) + ", data " +
                gib(dataset_bytes) + "), more than the " + gib(kMaxRunBytes) +
                " limit; lower batch, eval-batch, width or the image size");
}

}  // namespace eg::train
