// The trainer's data sets are folders of files, loaded as egtrain does (load_data: load, then
// normalise per channel). The input's parts are the folder's files in a fixed order; a missing part
// is a missing file. IDX parts are written as they are: zlib reads a file that is not gzip
// unchanged, so the fuzzer reaches the IDX headers directly and can still try gzip streams.
#include <string>

#include "base/error.hpp"
#include "sw/train/config.hpp"
#include "sw/train/data_source.hpp"
#include "tests/fuzz/fuzz_entries.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace eg::fuzz {

namespace {

bool load_folder(const char* dataset, const std::vector<std::string>& names, const uint8_t* data,
                 std::size_t size) {
  const auto parts = split_parts(as_text(data, size), names.size());
  const std::filesystem::path dir = fresh_subdir(dataset);
  for (std::size_t i = 0; i < parts.size(); ++i) write_bytes(dir / names[i], parts[i]);
  train::TrainConfig config;
  config.dataset = dataset;
  config.data_dir = dir.string();
  try {
    train::load_data(config);
    return true;
  } catch (const eg::Error&) {
    return false;
  }
}

}  // namespace

bool idx_one(const uint8_t* data, std::size_t size) {
  return load_folder("fashion-mnist",
                     {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                      "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
                     data, size);
}

bool cifar_one(const uint8_t* data, std::size_t size) {
  return load_folder("cifar10",
                     {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                      "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"},
                     data, size);
}

}  // namespace eg::fuzz
