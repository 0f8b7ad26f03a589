// CIFAR-10 binary version: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32×32).
#include <fstream>

#include "sw/train/dataset.hpp"
#include "base/error.hpp"

namespace eg::train {
namespace {

constexpr int64_t kRecord = 1 + 3 * 32 * 32;

void append_batch(Dataset& d, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": file not found or unreadable");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (bytes.empty() || bytes.size() % kRecord != 0)
    throw Error(path.string() + ": size " + std::to_string(bytes.size()) +
                " bytes is not a whole number of 3073-byte records");
  const int64_t n = static_cast<int64_t>(bytes.size()) / kRecord;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = bytes.data() + i * kRecord;
    if (r[0] > 9)
      throw Error(path.string() + ": record " + std::to_string(i) + ": label " +
                  std::to_string(r[0]) + " is not in 0..9");
    d.labels.push_back(r[0]);
    for (int64_t k = 1; k < kRecord; ++k) d.images.push_back(static_cast<float>(r[k]) / 255.0f);
  }
}

}  // namespace

DataSplit load_cifar10(const std::filesystem::path& dir) {
  DataSplit s;
  for (Dataset* d : {&s.train, &s.test}) {
    d->channels = 3;
    d->height = d->width = 32;
  }
  for (int b = 1; b <= 5; ++b)
    append_batch(s.train, dir / ("data_batch_" + std::to_string(b) + ".bin"));
  append_batch(s.test, dir / "test_batch.bin");
  return s;
}

}  // namespace eg::train
