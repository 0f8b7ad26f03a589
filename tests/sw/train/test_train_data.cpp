// Data loading: Fashion-MNIST IDX/gzip parsing and its errors (with small files made here),
// CIFAR-10 record checks, synthetic data and batch assembly.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <fstream>

#include "base/error.hpp"
#include "support/temp_dir.hpp"
#include "sw/train/dataset.hpp"

using namespace eg::train;
using eg::testing::TempDir;

namespace {

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

void write_gz(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

// A valid tiny Fashion-MNIST pair (n images of 4×3) for `prefix` (train / t10k).
void write_fmnist(const std::filesystem::path& dir, const std::string& prefix, uint32_t n) {
  std::vector<uint8_t> img, lbl;
  put32(img, 0x803);
  put32(img, n);
  put32(img, 4);
  put32(img, 3);
  for (uint32_t i = 0; i < n * 12; ++i) img.push_back(static_cast<uint8_t>(i * 7));
  put32(lbl, 0x801);
  put32(lbl, n);
  for (uint32_t i = 0; i < n; ++i) lbl.push_back(static_cast<uint8_t>(i % 10));
  write_gz(dir / (prefix + "-images-idx3-ubyte.gz"), img);
  write_gz(dir / (prefix + "-labels-idx1-ubyte.gz"), lbl);
}

}  // namespace

TEST_CASE("a well-formed Fashion-MNIST directory loads", "[train][data]") {
  TempDir dir("egtrain-data");
  write_fmnist(dir.path(), "train", 5);
  write_fmnist(dir.path(), "t10k", 3);
  const DataSplit s = load_fashion_mnist(dir.path());
  CHECK(s.train.count() == 5);
  CHECK(s.test.count() == 3);
  CHECK(s.train.height == 4);
  CHECK(s.train.width == 3);
  CHECK(s.train.labels[4] == 4);
  CHECK(s.train.images[1] == Approx(7.0f / 255.0f));
}

TEST_CASE("missing Fashion-MNIST file is a clear error naming it", "[train][data]") {
  TempDir dir("egtrain-data");
  write_fmnist(dir.path(), "train", 5);
  CHECK_THROWS_WITH(load_fashion_mnist(dir.path()),
                    Catch::Contains("t10k-images-idx3-ubyte.gz") && Catch::Contains("not found"));
}

TEST_CASE("malformed Fashion-MNIST files are clear errors", "[train][data]") {
  TempDir dir("egtrain-data");
  write_fmnist(dir.path(), "t10k", 3);
  SECTION("bad magic") {
    write_fmnist(dir.path(), "train", 5);
    std::vector<uint8_t> img;
    put32(img, 0x801);
    put32(img, 0);
    put32(img, 0);
    write_gz(dir / "train-images-idx3-ubyte.gz", img);
    CHECK_THROWS_WITH(load_fashion_mnist(dir.path()),
                      Catch::Contains("train-images-idx3-ubyte.gz") && Catch::Contains("magic"));
  }
  SECTION("truncated data") {
    write_fmnist(dir.path(), "train", 5);
    std::vector<uint8_t> img;
    put32(img, 0x803);
    put32(img, 10);
    put32(img, 4);
    put32(img, 3);
    img.resize(img.size() + 20);
    write_gz(dir / "train-images-idx3-ubyte.gz", img);
    CHECK_THROWS_WITH(load_fashion_mnist(dir.path()),
                      Catch::Contains("train-images-idx3-ubyte.gz") && Catch::Contains("size"));
  }
  SECTION("corrupt gzip stream") {
    write_fmnist(dir.path(), "train", 5);
    std::ofstream(dir / "train-labels-idx1-ubyte.gz", std::ios::binary)
        << std::string("\x1f\x8b\x08\x00garbage-not-deflate", 24);
    CHECK_THROWS_WITH(load_fashion_mnist(dir.path()),
                      Catch::Contains("train-labels-idx1-ubyte.gz"));
  }
  SECTION("label count differs from image count") {
    write_fmnist(dir.path(), "train", 5);
    std::vector<uint8_t> lbl;
    put32(lbl, 0x801);
    put32(lbl, 4);
    for (int i = 0; i < 4; ++i) lbl.push_back(1);
    write_gz(dir / "train-labels-idx1-ubyte.gz", lbl);
    CHECK_THROWS_WITH(load_fashion_mnist(dir.path()), Catch::Contains("count"));
  }
}

TEST_CASE("CIFAR-10 batch with a partial record is rejected", "[train][data]") {
  TempDir dir("egtrain-data");
  for (int b = 1; b <= 5; ++b)
    std::ofstream(dir / ("data_batch_" + std::to_string(b) + ".bin"), std::ios::binary)
        << std::string(3073, '\x01');
  std::ofstream(dir / "test_batch.bin", std::ios::binary) << std::string(3000, '\x01');
  CHECK_THROWS_WITH(load_cifar10(dir.path()),
                    Catch::Contains("test_batch.bin") && Catch::Contains("3073"));
}

TEST_CASE("epoch order is a seeded permutation and augmentation keeps labels", "[train][data]") {
  const auto a = epoch_order(100, 1, 0), b = epoch_order(100, 1, 0), c = epoch_order(100, 1, 1);
  CHECK(a == b);
  CHECK(a != c);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) CHECK(sorted[i] == i);
  SyntheticSpec spec;
  spec.train_count = 8;
  spec.test_count = 2;
  spec.height = spec.width = 6;
  const DataSplit s = make_synthetic(spec);
  Tensor x;
  std::vector<int> y;
  const int64_t idx[] = {3, 5};
  make_batch(s.train, idx, 2, Augment{true, 2, true}, 42, x, y);
  CHECK(y == std::vector<int>{s.train.labels[3], s.train.labels[5]});
  CHECK(x.shape == std::vector<int64_t>{2, 1, 6, 6});
}
