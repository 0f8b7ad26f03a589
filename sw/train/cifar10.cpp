// CIFAR-10 binary version: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32×32).
#include "base/error.hpp"
#include "base/files.hpp"
#include "sw/train/dataset.hpp"
#include "sw/train/limits.hpp"

namespace eg::train {
namespace {

constexpr int64_t kPixels = 3 * 32 * 32;
constexpr int64_t kRecord = 1 + kPixels;

// Appends one batch file; `pixel_budget` is what is left of the data set limit, which bounds the
// bytes read from this file.
void append_batch(Dataset& d, const std::filesystem::path& path, int64_t& pixel_budget) {
  // Only a regular file: a FIFO or device would block or never end (read_file checks too, but
  // only after opening, which blocks on a FIFO).
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    throw Error(path.string() + ": file not found");
  if (!ec && status.type() != std::filesystem::file_type::regular)
    throw Error(path.string() + ": not a regular file");
  const int64_t max_records = pixel_budget / kPixels;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > static_cast<uintmax_t>(max_records * kRecord))
    throw Error(path.string() + ": size " + std::to_string(size) + " bytes is more than the " +
                std::to_string(max_records) + " records left within the data set limit of " +
                std::to_string(kMaxDatasetBytes >> 30) + " GiB as float32");
  const std::string bytes = read_file(path, static_cast<size_t>(max_records * kRecord));
  if (bytes.empty() || bytes.size() % kRecord != 0)
    throw Error(path.string() + ": size " + std::to_string(bytes.size()) +
                " bytes is not a whole number of 3073-byte records");
  const int64_t n = static_cast<int64_t>(bytes.size()) / kRecord;
  pixel_budget -= n * kPixels;
  d.labels.reserve(d.labels.size() + static_cast<size_t>(n));
  d.images.reserve(d.images.size() + static_cast<size_t>(n * kPixels));
  for (int64_t i = 0; i < n; ++i) {
    const auto* r = reinterpret_cast<const uint8_t*>(bytes.data()) + i * kRecord;
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
  int64_t budget = kMaxDatasetPixels;
  for (int b = 1; b <= 5; ++b)
    append_batch(s.train, dir / ("data_batch_" + std::to_string(b) + ".bin"), budget);
  append_batch(s.test, dir / "test_batch.bin", budget);
  return s;
}

}  // namespace eg::train
