#include "sw/train/data_source.hpp"

namespace eg::train {

DataSplit load_data(const TrainConfig& c) {
  DataSplit split;
  if (c.dataset == "fashion-mnist") {
    split =
        load_fashion_mnist(c.data_dir.empty() ? "/usr/share/datasets/fashion-mnist" : c.data_dir);
  } else if (c.dataset == "cifar10") {
    split = load_cifar10(c.data_dir);
  } else {
    SyntheticSpec s;
    s.train_count = c.synthetic_train_size;
    s.test_count = c.synthetic_test_size;
    s.channels = c.synthetic_channels;
    s.height = c.synthetic_height;
    s.width = c.synthetic_width;
    s.noise = c.synthetic_noise;
    s.seed = c.seed;
    split = make_synthetic(s);
  }
  split.train.truncate(c.train_subset);
  split.test.truncate(c.test_subset);
  normalize_per_channel(split);
  return split;
}

}  // namespace eg::train
