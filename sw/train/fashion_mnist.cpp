// Fashion-MNIST: gzipped IDX files (magic 0x00000803 images, 0x00000801 labels, big-endian dims).
#include <zlib.h>

#include <cstring>

#include "sw/train/dataset.hpp"
#include "base/error.hpp"

namespace eg::train {
namespace {

std::vector<uint8_t> read_gzip(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw Error(path.string() + ": file not found");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error(path.string() + ": cannot open");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      const std::string msg = gzerror(f, &err);
      gzclose(f);
      throw Error(path.string() + ": not a valid gzip file (" + msg + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  gzclose(f);
  return out;
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t(b[at]) << 24) | (uint32_t(b[at + 1]) << 16) | (uint32_t(b[at + 2]) << 8) |
         uint32_t(b[at + 3]);
}

// Returns the payload after validating magic (dtype ubyte, `rank` dims) and the size.
std::vector<uint32_t> idx_header(const std::vector<uint8_t>& b, const std::filesystem::path& path,
                                 uint32_t rank) {
  if (b.size() < 4) throw Error(path.string() + ": header: file too short for IDX");
  const uint32_t magic = be32(b, 0);
  if (magic != (0x0800u | rank))
    throw Error(path.string() + ": header: bad IDX magic " + std::to_string(magic) + " (expected " +
                std::to_string(0x0800u | rank) + ")");
  if (b.size() < 4 + 4 * rank) throw Error(path.string() + ": header: file too short for IDX");
  std::vector<uint32_t> dims;
  uint64_t total = 1;
  for (uint32_t i = 0; i < rank; ++i) {
    dims.push_back(be32(b, 4 + 4 * i));
    total *= dims.back();
  }
  if (b.size() != 4 + 4 * rank + total)
    throw Error(path.string() + ": data: size " + std::to_string(b.size()) +
                " bytes does not match the header's dimensions (expected " +
                std::to_string(4 + 4 * rank + total) + ")");
  return dims;
}

Dataset load_pair(const std::filesystem::path& dir, const std::string& prefix) {
  const auto img_path = dir / (prefix + "-images-idx3-ubyte.gz");
  const auto lbl_path = dir / (prefix + "-labels-idx1-ubyte.gz");
  const auto img = read_gzip(img_path);
  const auto dims = idx_header(img, img_path, 3);
  const auto lbl = read_gzip(lbl_path);
  const auto ldims = idx_header(lbl, lbl_path, 1);
  if (ldims[0] != dims[0])
    throw Error(lbl_path.string() + ": count " + std::to_string(ldims[0]) +
                " differs from the image file's " + std::to_string(dims[0]));
  Dataset d;
  d.channels = 1;
  d.height = dims[1];
  d.width = dims[2];
  const size_t pixels = size_t(dims[0]) * dims[1] * dims[2];
  d.images.resize(pixels);
  for (size_t i = 0; i < pixels; ++i) d.images[i] = static_cast<float>(img[16 + i]) / 255.0f;
  d.labels.resize(dims[0]);
  for (size_t i = 0; i < dims[0]; ++i) {
    if (lbl[8 + i] >= d.classes)
      throw Error(lbl_path.string() + ": label " + std::to_string(i) + " is " +
                  std::to_string(lbl[8 + i]) + ", expected 0..9");
    d.labels[i] = lbl[8 + i];
  }
  return d;
}

}  // namespace

DataSplit load_fashion_mnist(const std::filesystem::path& dir) {
  DataSplit s;
  s.train = load_pair(dir, "train");
  s.test = load_pair(dir, "t10k");
  return s;
}

}  // namespace eg::train
