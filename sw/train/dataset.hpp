#pragma once
// In-memory image classification data sets (float NCHW images, int labels) and mini-batch
// assembly with optional random-crop/flip augmentation.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sw/train/tensor.hpp"

namespace eg::train {

struct Dataset {
  int64_t channels = 0, height = 0, width = 0, classes = 10;
  std::vector<float> images;  // count × C × H × W
  std::vector<int> labels;
  int64_t count() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_size() const { return channels * height * width; }
  void truncate(int64_t n);  // keep the first n samples (n <= 0 or >= count: keep all)
};

struct DataSplit {
  Dataset train, test;
};

// Fashion-MNIST from {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz in `dir`; pixels scaled to
// [0, 1]. Throws eg::Error naming the file and the problem (missing, not gzip, bad magic, ...).
DataSplit load_fashion_mnist(const std::filesystem::path& dir);
// CIFAR-10 binary version: data_batch_1..5.bin and test_batch.bin in `dir`.
DataSplit load_cifar10(const std::filesystem::path& dir);

struct SyntheticSpec {
  int64_t train_count = 256, test_count = 128, channels = 1, height = 8, width = 8, classes = 10;
  double noise = 1.0;  // std of the per-pixel noise around each class's prototype
  uint64_t seed = 0;
};
DataSplit make_synthetic(const SyntheticSpec& spec);

// Normalises both splits per channel with the training split's mean and std (so no data-set
// constants are baked in).
void normalize_per_channel(DataSplit& split);

struct Augment {
  bool enabled = false;
  int64_t crop_pad = 4;  // random crop from the image zero-padded by this many pixels
  bool flip = true;      // random horizontal flip
};

// Sample order of one epoch: a seeded Fisher-Yates shuffle keyed by (seed, epoch).
std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int64_t epoch);

// Copies samples `indices` into x [B,C,H,W] and y. Augmentation draws are keyed by
// (augment_key, sample position in the epoch), so they are reproducible and thread-independent.
void make_batch(const Dataset& data, const int64_t* indices, int64_t batch, const Augment& augment,
                uint64_t augment_key, Tensor& x, std::vector<int>& y);

}  // namespace eg::train
