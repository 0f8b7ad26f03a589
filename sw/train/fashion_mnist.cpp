// Fashion-MNIST: gzipped IDX files (magic 0x00000803 images, 0x00000801 labels, big-endian dims).
// The header is read first and checked (magic, every dimension >= 1 and within the limits, their
// product with checked arithmetic); the data is then decompressed only up to the size the header
// declares, so a gzip bomb costs at most that much memory.
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "sw/train/dataset.hpp"
#include "sw/train/limits.hpp"

namespace eg::train {
namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

class GzReader {
 public:
  explicit GzReader(const std::filesystem::path& path) : path_(path) {
    // Only a regular file: a FIFO or device would block or never end.
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found)
      throw Error(path.string() + ": file not found");
    if (ec) throw Error(path.string() + ": cannot read (" + ec.message() + ")");
    if (status.type() != std::filesystem::file_type::regular)
      throw Error(path.string() + ": not a regular file");
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) throw Error(path.string() + ": cannot open");
  }

  // Reads up to `n` bytes (fewer only at the end of the data) and appends them to `out`.
  size_t read(std::vector<uint8_t>& out, size_t n) {
    size_t done = 0;
    while (done < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, size_t{1} << 20));
      const size_t at = out.size();
      out.resize(at + chunk);
      const int got = gzread(file_.get(), out.data() + at, chunk);
      if (got < 0) {
        int err = 0;
        const std::string msg = gzerror(file_.get(), &err);
        throw Error(path_.string() + ": not a valid gzip file (" + msg + ")");
      }
      out.resize(at + static_cast<size_t>(got));
      done += static_cast<size_t>(got);
      if (got == 0) break;
    }
    return done;
  }

 private:
  std::filesystem::path path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
};

uint32_t be32(const uint8_t* b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

std::string hex32(uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

struct Idx {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // the payload after the header
};

// Reads an IDX file of unsigned bytes with `rank` dimensions. `max_dims[i]` bounds dims[i] and
// `max_payload` the product of all (the bytes decompressed). The payload must be exactly what the
// header declares.
Idx read_idx(const std::filesystem::path& path, uint32_t rank, const std::vector<int64_t>& max_dims,
             const std::vector<std::string>& dim_names, int64_t max_payload) {
  GzReader in(path);
  const std::string name = path.string();
  std::vector<uint8_t> header;
  const size_t header_bytes = 4 + 4 * size_t{rank};
  if (in.read(header, 4) < 4) throw Error(name + ": header: file too short for IDX");
  const uint32_t magic = be32(header.data());
  if (magic != (0x0800u | rank))
    throw Error(name + ": header: bad IDX magic " + hex32(magic) + " (expected " +
                hex32(0x0800u | rank) + ": unsigned bytes, " + std::to_string(rank) +
                " dimensions)");
  if (in.read(header, header_bytes - 4) < header_bytes - 4)
    throw Error(name + ": header: file too short for IDX");
  Idx idx;
  for (uint32_t i = 0; i < rank; ++i) {
    const int64_t d = be32(header.data() + 4 + 4 * i);
    if (d < 1 || d > max_dims[i])
      throw Error(name + ": header: " + dim_names[i] + " is " + std::to_string(d) +
                  ", must be >= 1 and <= " + std::to_string(max_dims[i]));
    idx.dims.push_back(d);
  }
  const int64_t payload = checked_product(idx.dims, name + ": header");
  if (payload > max_payload)
    throw Error(name + ": header: declares " + std::to_string(payload) +
                " bytes of data, more than the " + std::to_string(max_payload) +
                " left within the data set limit of " + std::to_string(kMaxDatasetBytes >> 30) +
                " GiB as float32");
  // Grows with the data actually decompressed, never to a size only the header claims.
  const size_t got = in.read(idx.data, static_cast<size_t>(payload));
  if (got < static_cast<size_t>(payload))
    throw Error(name + ": data: size " + std::to_string(header_bytes + got) +
                " bytes does not match the header's dimensions (expected " +
                std::to_string(header_bytes + static_cast<size_t>(payload)) + ")");
  std::vector<uint8_t> extra;
  if (in.read(extra, 1) != 0)
    throw Error(name + ": data: more bytes than the header's dimensions declare (expected " +
                std::to_string(header_bytes + static_cast<size_t>(payload)) + ")");
  return idx;
}

// Loads one split; `max_pixels` is what is left of the data set limit.
Dataset load_pair(const std::filesystem::path& dir, const std::string& prefix, int64_t max_pixels) {
  const auto img_path = dir / (prefix + "-images-idx3-ubyte.gz");
  const auto lbl_path = dir / (prefix + "-labels-idx1-ubyte.gz");
  const Idx img = read_idx(img_path, 3, {kMaxSamples, kMaxImageSide, kMaxImageSide},
                           {"image count", "rows", "columns"}, max_pixels);
  const Idx lbl = read_idx(lbl_path, 1, {kMaxSamples}, {"label count"}, kMaxSamples);
  if (lbl.dims[0] != img.dims[0])
    throw Error(lbl_path.string() + ": header: label count " + std::to_string(lbl.dims[0]) +
                " differs from the image file's " + std::to_string(img.dims[0]));
  Dataset d;
  d.channels = 1;
  d.height = img.dims[1];
  d.width = img.dims[2];
  d.images.resize(img.data.size());
  for (size_t i = 0; i < img.data.size(); ++i)
    d.images[i] = static_cast<float>(img.data[i]) / 255.0f;
  d.labels.resize(lbl.data.size());
  for (size_t i = 0; i < lbl.data.size(); ++i) {
    if (lbl.data[i] >= d.classes)
      throw Error(lbl_path.string() + ": label " + std::to_string(i) + " is " +
                  std::to_string(lbl.data[i]) + ", expected 0.." + std::to_string(d.classes - 1));
    d.labels[i] = lbl.data[i];
  }
  return d;
}

}  // namespace

DataSplit load_fashion_mnist(const std::filesystem::path& dir) {
  DataSplit s;
  s.train = load_pair(dir, "train", kMaxDatasetPixels);
  s.test = load_pair(dir, "t10k", kMaxDatasetPixels - int64_t(s.train.images.size()));
  // The network is built for the training images' shape; test images of another shape would be
  // read out of bounds.
  if (s.test.height != s.train.height || s.test.width != s.train.width)
    throw Error((dir / "t10k-images-idx3-ubyte.gz").string() + ": header: images are " +
                std::to_string(s.test.height) + "x" + std::to_string(s.test.width) +
                " but the training images are " + std::to_string(s.train.height) + "x" +
                std::to_string(s.train.width));
  return s;
}

}  // namespace eg::train
