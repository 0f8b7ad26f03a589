#pragma once
// egtrain's documented limits: the largest value each flag, data file and checkpoint may hold, so
// that a bad or hostile input is refused with one line instead of crashing, wrapping, hanging or
// exhausting memory. Each bound is far above what a real run of this CPU trainer uses; the README's
// egtrain section lists them.
#include <cstddef>
#include <cstdint>
#include <string>

namespace eg::train {

struct TrainConfig;

// 1000 epochs: 5x the longest schedule in the literature this trainer reproduces (ResNet-18 on
// CIFAR-10, 200 epochs). It also bounds the per-epoch history a checkpoint header carries.
// Conv layers --trainable-last may name: ResNet-18 has 20, ResNet-20 22; a larger K than the
// network has is refused once the network is built, this only bounds the parsed number.
inline constexpr int64_t kMaxTrainableLast = 1000;
inline constexpr int64_t kMaxEpochs = 1000;
// A billion mini-batches is years of CPU time at any size; it keeps every iteration counter (and
// iteration x batch) far from 64-bit overflow. Also bounds trace-iteration, checkpoint-every and
// log-every.
inline constexpr int64_t kMaxIterations = 1'000'000'000;
// Mini-batch and evaluation batch: 64 Ki samples, 128x the usual 512 at most. Memory is bounded
// separately by kMaxRunBytes.
inline constexpr int64_t kMaxBatch = 65'536;
// Samples per split (synthetic sizes, subsets, IDX counts): 10 M, 8x ImageNet's 1.28 M.
inline constexpr int64_t kMaxSamples = 10'000'000;
// Image side in pixels: 4096 (ImageNet crops are 224). The networks here keep full resolution in
// their first stage (CIFAR form, no downsampling stem), so kMaxRunBytes refuses far smaller images
// first; this bound keeps the size arithmetic of IDX headers and flags small.
inline constexpr int64_t kMaxImageSide = 4096;
// Image channels: 64 (RGB is 3; multispectral images have a few dozen).
inline constexpr int64_t kMaxImageChannels = 64;
// Float32 images of both splits in memory: 8 GiB (CIFAR-10 takes 0.7 GiB, Fashion-MNIST 0.2 GiB).
// Every IDX or CIFAR byte becomes one float, which also bounds each file's decompressed size.
inline constexpr int64_t kMaxDatasetBytes = int64_t{8} << 30;
inline constexpr int64_t kMaxDatasetPixels = kMaxDatasetBytes / int64_t(sizeof(float));
// Channel width multiplier: 16 (wide ResNets use up to 10-12); memory is bounded by kMaxRunBytes.
inline constexpr double kMaxWidth = 16.0;
// Worker threads: 256, more than any machine this runs on has cores.
inline constexpr int64_t kMaxThreads = 256;
// dy histogram bins: 256 (default 41). Each layer's histogram is stored per epoch in metrics.json
// and the checkpoint header and in every trace manifest; 256 bins keep a 1000-epoch ResNet-18
// history (21 layers) under ~70 MB, within kMaxCheckpointHeaderBytes.
inline constexpr int64_t kMaxHistogramBins = 256;
// The histogram spans +-this many standard deviations: 1000. Beyond it a bin is wider than any
// float32 dy can be far from the mean, and the bin arithmetic could overflow to inf.
inline constexpr double kMaxHistogramRangeStd = 1000.0;
// Synthetic noise std: 1000x the class prototypes' unit std leaves nothing to learn, and keeps the
// images' sums of squares finite.
inline constexpr double kMaxSyntheticNoise = 1000.0;

// Memory a run may need, estimated before anything large is allocated: 16 GiB.
inline constexpr int64_t kMaxRunBytes = int64_t{16} << 30;
// Peak resident memory per output element of every convolution for one sample, measured with
// ResNet-18 3x32x32 and ResNet-20 1x28x28, bp and efficientgrad, as the difference between two
// batch sizes. Training (all activations, their gradients, batch-norm and pruning scratch,
// recorded tensors): 59 bytes with oneDNN, 71 with im2col. Evaluation samples beyond the training
// batch (forward only; the outputs grow to eval-batch): 21 and 43 bytes. The constants add about a
// third of margin.
inline constexpr int64_t kTrainBytesPerConvOutputOnednn = 80;
inline constexpr int64_t kTrainBytesPerConvOutputIm2col = 96;
inline constexpr int64_t kEvalBytesPerConvOutputOnednn = 28;
inline constexpr int64_t kEvalBytesPerConvOutputIm2col = 58;
// Per parameter: value, gradient, momentum, random feedback B, the feedback matrix used and the
// recorded dw. Measured 27 bytes (ResNet-18 width 1 vs 2, fa); 40 with margin.
inline constexpr int64_t kRunBytesPerParameter = 40;

// A checkpoint's JSON header: 128 MiB holds the largest history the limits above allow (1000
// epochs x 21 layers x (256 histogram counts of <= 11 characters + ~400 for the other fields)).
inline constexpr std::size_t kMaxCheckpointHeaderBytes = std::size_t{128} << 20;

// Refuses a run whose estimated memory (training activations for the batch, forward activations
// for the evaluation samples beyond it, parameters and the loaded data set) exceeds kMaxRunBytes,
// naming config.source and the keys to lower. The image shape is the data set's.
void check_run_memory(const TrainConfig& config, int64_t channels, int64_t height, int64_t width,
                      int64_t dataset_bytes);

}  // namespace eg::train
