#pragma once
// Loads the data set named by the config (with subsets applied and per-channel normalisation).
#include "sw/train/config.hpp"
#include "sw/train/dataset.hpp"

namespace eg::train {

DataSplit load_data(const TrainConfig& config);

}  // namespace eg::train
