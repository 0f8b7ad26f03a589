#include "sw/train/cross_entropy.hpp"

#include <cmath>
#include <stdexcept>

namespace eg::train {

LossResult softmax_cross_entropy(const Tensor& logits, const std::vector<int>& labels,
                                 Tensor* dlogits) {
  const int64_t n = logits.dim(0), k = logits.size() / n;
  if (static_cast<int64_t>(labels.size()) != n)
    throw std::logic_error("cross entropy: label count differs from batch");
  if (dlogits) dlogits->ensure(logits.shape);
  LossResult r;
  std::vector<double> p(static_cast<size_t>(k));
  for (int64_t i = 0; i < n; ++i) {
    const float* z = logits.ptr() + i * k;
    const int label = labels[i];
    if (label < 0 || label >= k) throw std::logic_error("cross entropy: label out of range");
    int64_t arg = 0;
    for (int64_t j = 1; j < k; ++j)
      if (z[j] > z[arg]) arg = j;
    if (arg == label) ++r.correct;
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j) sum += p[j] = std::exp(double(z[j]) - z[arg]);
    r.loss += std::log(sum) - (double(z[label]) - z[arg]);
    if (dlogits)
      for (int64_t j = 0; j < k; ++j)
        dlogits->data[i * k + j] = static_cast<float>((p[j] / sum - (j == label ? 1.0 : 0.0)) / n);
  }
  r.loss /= static_cast<double>(n);
  return r;
}

}  // namespace eg::train
