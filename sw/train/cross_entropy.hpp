#pragma once
// Softmax cross-entropy averaged over the batch, with its gradient w.r.t. the logits.
#include <cstdint>
#include <vector>

#include "sw/train/tensor.hpp"

namespace eg::train {

struct LossResult {
  double loss = 0.0;    // mean over the batch
  int64_t correct = 0;  // arg-max predictions equal to the label
};

// logits [N, K]; labels in [0, K). dlogits (optional) receives (softmax − onehot) / N.
LossResult softmax_cross_entropy(const Tensor& logits, const std::vector<int>& labels,
                                 Tensor* dlogits);

}  // namespace eg::train
