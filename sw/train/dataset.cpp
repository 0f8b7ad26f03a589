#include "sw/train/dataset.hpp"

#include <cmath>
#include <numeric>

#include "sw/train/parallel.hpp"
#include "sw/train/random.hpp"

namespace eg::train {

void Dataset::truncate(int64_t n) {
  if (n <= 0 || n >= count()) return;
  labels.resize(static_cast<size_t>(n));
  images.resize(static_cast<size_t>(n * image_size()));
}

void normalize_per_channel(DataSplit& split) {
  Dataset& tr = split.train;
  const int64_t hw = tr.height * tr.width;
  for (int64_t c = 0; c < tr.channels; ++c) {
    double s = 0.0, ss = 0.0;
    for (int64_t i = 0; i < tr.count(); ++i) {
      const float* p = tr.images.data() + (i * tr.channels + c) * hw;
      for (int64_t k = 0; k < hw; ++k) {
        s += p[k];
        ss += double(p[k]) * p[k];
      }
    }
    const double n = static_cast<double>(tr.count() * hw);
    const double mean = n > 0 ? s / n : 0.0;
    const double var = n > 0 ? ss / n - mean * mean : 1.0;
    const double inv = var > 0 ? 1.0 / std::sqrt(var) : 1.0;
    for (Dataset* d : {&split.train, &split.test})
      for (int64_t i = 0; i < d->count(); ++i) {
        float* p = d->images.data() + (i * d->channels + c) * hw;
        for (int64_t k = 0; k < hw; ++k) p[k] = static_cast<float>((p[k] - mean) * inv);
      }
  }
}

DataSplit make_synthetic(const SyntheticSpec& spec) {
  DataSplit split;
  const int64_t size = spec.channels * spec.height * spec.width;
  const CounterRng proto(stream_key({spec.seed, uint64_t(Stream::Synthetic), 0}));
  int64_t offset = 0;
  for (Dataset* d : {&split.train, &split.test}) {
    d->channels = spec.channels;
    d->height = spec.height;
    d->width = spec.width;
    d->classes = spec.classes;
    const int64_t n = d == &split.train ? spec.train_count : spec.test_count;
    const CounterRng noise(stream_key({spec.seed, uint64_t(Stream::Synthetic), 1}));
    const CounterRng label(stream_key({spec.seed, uint64_t(Stream::Synthetic), 2}));
    d->images.resize(static_cast<size_t>(n * size));
    d->labels.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int cls = static_cast<int>(label.below(offset + i, spec.classes));
      d->labels[i] = cls;
      for (int64_t k = 0; k < size; ++k)
        d->images[i * size + k] = static_cast<float>(
            proto.normal(cls * size + k) + spec.noise * noise.normal((offset + i) * size + k));
    }
    offset += n;
  }
  return split;
}

std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  const CounterRng rng(stream_key({seed, uint64_t(Stream::Shuffle), uint64_t(epoch)}));
  for (int64_t i = count - 1; i > 0; --i)
    std::swap(order[i], order[rng.below(static_cast<uint64_t>(i), static_cast<uint64_t>(i + 1))]);
  return order;
}

void make_batch(const Dataset& data, const int64_t* indices, int64_t batch, const Augment& augment,
                uint64_t augment_key, Tensor& x, std::vector<int>& y) {
  const int64_t c = data.channels, h = data.height, w = data.width, size = data.image_size();
  x.ensure({batch, c, h, w});
  y.resize(static_cast<size_t>(batch));
  const CounterRng rng(augment_key);
  parallel_for(batch, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t idx = indices[i];
      y[i] = data.labels[idx];
      const float* src = data.images.data() + idx * size;
      float* dst = x.ptr() + i * size;
      if (!augment.enabled) {
        std::copy(src, src + size, dst);
        continue;
      }
      const int64_t pad = augment.crop_pad, span = 2 * pad + 1;
      const int64_t dy = static_cast<int64_t>(rng.below(3 * i, span)) - pad;
      const int64_t dx = static_cast<int64_t>(rng.below(3 * i + 1, span)) - pad;
      const bool flip = augment.flip && rng.below(3 * i + 2, 2) == 1;
      for (int64_t ci = 0; ci < c; ++ci)
        for (int64_t r = 0; r < h; ++r)
          for (int64_t q = 0; q < w; ++q) {
            const int64_t sr = r + dy, sq = (flip ? w - 1 - q : q) + dx;
            dst[(ci * h + r) * w + q] =
                (sr >= 0 && sr < h && sq >= 0 && sq < w) ? src[(ci * h + sr) * w + sq] : 0.0f;
          }
    }
  });
}

}  // namespace eg::train
