// Every bad input to egtrain is one clean error: one line naming the file or flag, the field and
// the problem, exit code 1, and nothing written; never a crash, a hang, exhausted memory or a
// silently accepted value. Covers flags and config files, Fashion-MNIST IDX/gzip files, CIFAR-10
// batches and checkpoint headers, each with small files made here.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "run_helpers.hpp"
#include "support/temp_dir.hpp"
#include "sw/train/dataset.hpp"
#include "sw/train/trainer.hpp"

using namespace eg::train;
using eg::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using testing::kEgtrain;
using testing::kTiny;

using RunResult = testing::EgtrainRun;
RunResult run(const std::string& args, const TempDir& dir) {
  return testing::run_egtrain(kEgtrain, args, dir / "stderr.txt");
}

// The files a run left under `dir` (none when it does not exist).
int files_under(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (!e.is_directory()) ++n;
  return n;
}

// Runs egtrain with `args` plus `--out <dir>/out` and checks the whole contract: exit code 1, the
// one-line message `want`, no "internal error", nothing written to the output folder.
void expect_refused(const std::string& args, const TempDir& dir, const std::string& want) {
  const fs::path out = dir / "out";
  const RunResult r = run(args + " --out " + out.string(), dir);
  INFO(args);
  CHECK(r.exit_code == 1);
  CHECK(r.err == "egtrain: error: " + want + "\n");
  CHECK(r.err.find("internal error") == std::string::npos);
  CHECK(files_under(out) == 0);
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

void write_gz(const fs::path& p, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  gzclose(f);
}

std::vector<uint8_t> idx_images(uint32_t n, uint32_t rows, uint32_t cols, size_t payload) {
  std::vector<uint8_t> b;
  put32(b, 0x803);
  put32(b, n);
  put32(b, rows);
  put32(b, cols);
  for (size_t i = 0; i < payload; ++i) b.push_back(static_cast<uint8_t>(i * 7));
  return b;
}

std::vector<uint8_t> idx_labels(uint32_t n, size_t payload) {
  std::vector<uint8_t> b;
  put32(b, 0x801);
  put32(b, n);
  for (size_t i = 0; i < payload; ++i) b.push_back(static_cast<uint8_t>(i % 10));
  return b;
}

// A valid Fashion-MNIST split of n images of rows x cols.
void write_split(const fs::path& dir, const std::string& prefix, uint32_t n, uint32_t rows = 4,
                 uint32_t cols = 3) {
  write_gz(dir / (prefix + "-images-idx3-ubyte.gz"), idx_images(n, rows, cols, n * rows * cols));
  write_gz(dir / (prefix + "-labels-idx1-ubyte.gz"), idx_labels(n, n));
}

std::string fmnist_args(const fs::path& data) {
  return "--dataset fashion-mnist --data-dir " + data.string() +
         " --width 0.25 --batch 2 --epochs 1 --log-every 0";
}

// Splits a checkpoint into its JSON header and the tensor bytes after it.
std::pair<json, std::string> split_checkpoint(const fs::path& p) {
  const std::string bytes = testing::read_bytes(p);
  REQUIRE(bytes.size() > 16);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data() + 8, sizeof len);
  REQUIRE(16 + len <= bytes.size());
  return {json::parse(bytes.substr(16, len)), bytes.substr(16 + len)};
}

void write_checkpoint(const fs::path& p, const std::string& header_text, const std::string& tensors,
                      uint64_t len_field) {
  std::string bytes = "EGCKPT01";
  bytes.append(reinterpret_cast<const char*>(&len_field), sizeof len_field);
  bytes += header_text;
  bytes += tensors;
  write_text(p, bytes);
}

void write_checkpoint(const fs::path& p, const json& header, const std::string& tensors) {
  const std::string text = header.dump();
  write_checkpoint(p, text, tensors, text.size());
}

// A checkpoint after 2 of the tiny run's 12 iterations, in `out`.
TrainConfig tiny_interrupted(const fs::path& out) {
  TrainConfig c = testing::tiny_config(out);
  c.iterations = 2;
  std::ostringstream log;
  run_training(c, log);
  c.iterations = 0;
  c.resume = true;
  return c;
}

}  // namespace

TEST_CASE("real-valued flags and keys refuse NaN and infinities", "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  expect_refused(kTiny + " --lr nan", dir,
                 "command line (--lr): key 'lr': value nan is not a finite number");
  expect_refused(kTiny + " --momentum -inf", dir,
                 "command line (--momentum): key 'momentum': value -inf is not a finite number");
  expect_refused(kTiny + " --weight-decay inf", dir,
                 "command line (--weight-decay): key 'weight-decay': value inf is not a finite "
                 "number");
  expect_refused(kTiny + " --synthetic-noise NAN", dir,
                 "command line (--synthetic-noise): key 'synthetic-noise': value nan is not a "
                 "finite number");
  expect_refused(kTiny + " --lr 1e999", dir,
                 "command line (--lr): key 'lr': '1e999' does not fit a 64-bit floating-point "
                 "number");
  // JSON has no NaN literal; a number too large for a double is a parse error naming the file.
  write_text(dir / "c.json", R"({"lr": 1e400})");
  expect_refused("--config " + (dir / "c.json").string(), dir,
                 (dir / "c.json").string() + ": not valid JSON (number overflow parsing '1e400')");
}

TEST_CASE("integer keys refuse values that do not fit instead of wrapping", "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const std::string path = (dir / "c.json").string();
  write_text(path, R"({"batch": 18446744073709551615})");
  expect_refused("--config " + path, dir,
                 path + ": key 'batch': value 18446744073709551615 does not fit a 64-bit integer");
  write_text(path, R"({"seed": 9223372036854775808})");
  expect_refused("--config " + path, dir,
                 path + ": key 'seed': value 9223372036854775808 does not fit a 64-bit integer");
  expect_refused(kTiny + " --synthetic-height 4294967296", dir,
                 "command line (--synthetic-height): key 'synthetic-height': value 4294967296 out "
                 "of range (must be >= 1 and <= 4096)");
  expect_refused("--iterations 99999999999999999999", dir,
                 "command line (--iterations): key 'iterations': '99999999999999999999' does not "
                 "fit a 64-bit integer");
}

TEST_CASE("every size flag has a documented upper bound", "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--histogram-bins 1000000000",
       "'histogram-bins': value 1000000000 out of range (must be "
       ">= 1 and <= 256)"},
      {"--histogram-range-std 1e300",
       "'histogram-range-std': value 1e+300 out of range (must be >= 1e-06 and <= 1000)"},
      {"--width 1000", "'width': value 1000 out of range (must be >= 1e-06 and <= 16)"},
      {"--bn-eps 2", "'bn-eps': value 2 out of range (must be >= 1e-12 and <= 1)"},
      {"--threads 100000", "'threads': value 100000 out of range (must be >= 1 and <= 256)"},
      {"--epochs 1000000", "'epochs': value 1000000 out of range (must be >= 1 and <= 1000)"},
      {"--iterations 2000000000",
       "'iterations': value 2000000000 out of range (must be >= 0 and <= 1000000000)"},
      {"--eval-batch 100000",
       "'eval-batch': value 100000 out of range (must be >= 1 and <= "
       "65536)"},
      {"--synthetic-channels 65",
       "'synthetic-channels': value 65 out of range (must be >= 1 "
       "and <= 64)"},
      {"--synthetic-train-size 20000000",
       "'synthetic-train-size': value 20000000 out of range (must be >= 1 and <= 10000000)"},
      {"--crop-pad 9223372036854775807",
       "'crop-pad': value 9223372036854775807 out of range (must be >= 0 and <= 4096)"},
  };
  for (const auto& [flag, problem] : cases) {
    const std::string key = flag.substr(2, flag.find(' ') - 2);
    expect_refused(flag, dir, "command line (--" + key + "): key " + problem);
  }
}

TEST_CASE("sizes derived from several flags are bounded before anything is allocated",
          "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  // Each factor is within its own bound; the product is 1.7e14 floats.
  expect_refused(
      "--dataset synthetic --synthetic-train-size 10000000 --synthetic-height 4096 "
      "--synthetic-width 4096",
      dir,
      "command line: key 'synthetic-train-size': the synthetic images (train + test samples x "
      "channels x height x width = 167776454967296 floats) exceed the 8 GiB data set limit");
  // Data within bounds, but the activations of a large batch are not.
  const auto start = std::chrono::steady_clock::now();
  expect_refused(
      "--dataset synthetic --network resnet18 --batch 4096 --synthetic-train-size 4096 "
      "--synthetic-test-size 0 --synthetic-channels 3 --synthetic-height 32 --synthetic-width 32",
      dir,
      "command line: key 'batch': the run would need about 188.0 GiB (activations 187.5 GiB for "
      "batch 4096 and eval-batch 256, parameters 0.4 GiB, data 0.0 GiB), more than the 16.0 GiB "
      "limit; lower batch, eval-batch, width or the image size");
  // Refused from the estimate, not after allocating and initialising a network.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("a trace iteration the run never reaches is an error at start-up", "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const std::string trace = " --trace-out " + (dir / "trace").string();
  // Beyond --iterations: known from the flags alone.
  expect_refused(kTiny + " --iterations 2 --trace-iteration 3" + trace, dir,
                 "command line: key 'trace-iteration': 3 is beyond the run's last iteration "
                 "(iterations = 2)");
  // Beyond epochs x mini-batches per epoch: known once the data set is loaded, before training.
  expect_refused(kTiny + " --trace-iteration 5" + trace, dir,
                 "command line: key 'trace-iteration': 5 is beyond the run's last iteration 4 (1 "
                 "epochs x 4 mini-batches)");
  CHECK_FALSE(fs::exists(dir / "trace"));
}

TEST_CASE("config files are parsed with the shared depth and size limits", "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const std::string path = (dir / "deep.json").string();
  write_text(path, std::string(100000, '[') + std::string(100000, ']'));
  expect_refused("--config " + path, dir, path + ": JSON nested deeper than 64 levels");
  const std::string big = (dir / "big.json").string();
  write_text(big, "{\"data-dir\": \"" + std::string(2 << 20, 'x') + "\"}");
  expect_refused("--config " + big, dir, big + ": larger than 1048576 bytes");
  const std::string fifo = (dir / "fifo.json").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  expect_refused("--config " + fifo, dir, fifo + ": not a regular file");
}

TEST_CASE("IDX headers are checked with checked arithmetic and name the file",
          "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const fs::path data = dir / "data";
  fs::create_directories(data);
  write_split(data, "t10k", 3);
  const std::string images = (data / "train-images-idx3-ubyte.gz").string();
  const std::string labels = (data / "train-labels-idx1-ubyte.gz").string();
  write_gz(labels, idx_labels(4, 4));

  SECTION("zero rows") {
    write_gz(images, idx_images(4, 0, 3, 0));
    expect_refused(fmnist_args(data), dir,
                   images + ": header: rows is 0, must be >= 1 and <= 4096");
  }
  SECTION("dimensions whose product wraps a 64-bit size to 0") {
    // 2^16 x 2^24 x 2^24 = 2^64: the old loader's size wrapped to 0 and matched an empty file.
    write_gz(images, idx_images(1u << 16, 1u << 24, 1u << 24, 0));
    expect_refused(fmnist_args(data), dir,
                   images + ": header: rows is 16777216, must be >= 1 and <= 4096");
  }
  SECTION("a header declaring more data than the data set limit") {
    write_gz(images, idx_images(10000000, 4096, 4096, 0));
    expect_refused(fmnist_args(data), dir,
                   images +
                       ": header: declares 167772160000000 bytes of data, more than the "
                       "2147483648 left within the data set limit of 8 GiB as float32");
  }
  SECTION("bad magic") {
    std::vector<uint8_t> b = idx_images(4, 4, 3, 48);
    b[2] = 0x0d;  // float data instead of unsigned bytes
    write_gz(images, b);
    expect_refused(fmnist_args(data), dir,
                   images +
                       ": header: bad IDX magic 0x00000d03 (expected 0x00000803: unsigned "
                       "bytes, 3 dimensions)");
  }
  SECTION("truncated data") {
    write_gz(images, idx_images(4, 4, 3, 40));
    expect_refused(fmnist_args(data), dir,
                   images +
                       ": data: size 56 bytes does not match the header's dimensions "
                       "(expected 64)");
  }
  SECTION("label count differs from image count") {
    write_gz(images, idx_images(5, 4, 3, 60));
    expect_refused(fmnist_args(data), dir,
                   labels + ": header: label count 4 differs from the image file's 5");
  }
  SECTION("label out of range") {
    write_gz(images, idx_images(4, 4, 3, 48));
    std::vector<uint8_t> b = idx_labels(4, 4);
    b.back() = 10;
    write_gz(labels, b);
    expect_refused(fmnist_args(data), dir, labels + ": label 3 is 10, expected 0..9");
  }
  SECTION("a FIFO in place of a data file is refused without blocking") {
    REQUIRE(::mkfifo(images.c_str(), 0600) == 0);
    expect_refused(fmnist_args(data), dir, images + ": not a regular file");
  }
}

TEST_CASE("Fashion-MNIST test images of another shape than the training images are refused",
          "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const fs::path data = dir / "data";
  fs::create_directories(data);
  write_split(data, "train", 4, 4, 3);
  write_split(data, "t10k", 3, 5, 3);
  expect_refused(fmnist_args(data), dir,
                 (data / "t10k-images-idx3-ubyte.gz").string() +
                     ": header: images are 5x3 but the training images are 4x3");
}

TEST_CASE("a gzip bomb is decompressed only as far as its header declares", "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const fs::path data = dir / "data";
  fs::create_directories(data);
  write_split(data, "t10k", 3);
  write_gz(data / "train-labels-idx1-ubyte.gz", idx_labels(4, 4));
  // 48 bytes declared, 64 MiB of zeros behind them (a ~64 KiB file).
  const std::string images = (data / "train-images-idx3-ubyte.gz").string();
  {
    gzFile f = gzopen(images.c_str(), "wb9");
    REQUIRE(f);
    const std::vector<uint8_t> head = idx_images(4, 4, 3, 48);
    gzwrite(f, head.data(), static_cast<unsigned>(head.size()));
    const std::vector<uint8_t> zeros(1 << 20, 0);
    for (int i = 0; i < 64; ++i) gzwrite(f, zeros.data(), static_cast<unsigned>(zeros.size()));
    gzclose(f);
  }
  CHECK(fs::file_size(images) < (1u << 20));
  const auto start = std::chrono::steady_clock::now();
  expect_refused(fmnist_args(data), dir,
                 images + ": data: more bytes than the header's dimensions declare (expected 64)");
  // Stopping at the declared size means not inflating the 64 MiB either.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("CIFAR-10 batches are checked for size and label range", "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const fs::path data = dir / "data";
  fs::create_directories(data);
  const std::string record = std::string(1, '\x03') + std::string(3072, '\x01');
  for (int b = 1; b <= 5; ++b)
    write_text(data / ("data_batch_" + std::to_string(b) + ".bin"), record + record);
  const std::string test = (data / "test_batch.bin").string();
  const std::string args = "--dataset cifar10 --data-dir " + data.string() +
                           " --network resnet20 --width 0.25 --batch 2 --epochs 1 --log-every 0";
  write_text(test, record + std::string(3000, '\x01'));
  expect_refused(args, dir, test + ": size 6073 bytes is not a whole number of 3073-byte records");
  write_text(test, "");
  expect_refused(args, dir, test + ": size 0 bytes is not a whole number of 3073-byte records");
  write_text(test, record + std::string(1, '\x0a') + std::string(3072, '\x01'));
  expect_refused(args, dir, test + ": record 1: label 10 is not in 0..9");
  fs::remove(test);
  expect_refused(args, dir, test + ": file not found");
}

TEST_CASE("a checkpoint header with an out-of-range loop position is refused",
          "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const TrainConfig c = tiny_interrupted(dir / "o");
  const fs::path ckpt = dir / "o" / "checkpoint.bin";
  const auto [header, tensors] = split_checkpoint(ckpt);
  const std::string metrics = testing::read_bytes(dir / "o" / "metrics.json");
  const std::string name = ckpt.string();
  // The tiny run: 2 epochs of 6 mini-batches of 16; the checkpoint is at iteration 2.
  const std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"/progress/batch_in_epoch", -1000000,
       "/progress/batch_in_epoch: must be an integer in [0, 6], not -1000000"},
      {"/progress/batch_in_epoch", 7,
       "/progress/batch_in_epoch: must be an integer in [0, 6], not 7"},
      {"/progress/epoch", 3, "/progress/epoch: must be an integer in [0, 2], not 3"},
      {"/progress/epoch", -1, "/progress/epoch: must be an integer in [0, 2], not -1"},
      {"/progress/iteration", 1000000000000,
       "/progress/iteration: must be an integer in [2, 2], "
       "not 1000000000000"},
      {"/progress/iteration", 18446744073709551615u,
       "/progress/iteration: must be an integer in [2, 2]"},
      {"/progress/seen", 31, "/progress/seen: must be an integer in [32, 32], not 31"},
      {"/progress/correct", 33, "/progress/correct: must be an integer in [0, 32], not 33"},
      {"/progress/loss_sum", nullptr, "/progress/loss_sum: must be a finite number >= 0"},
      {"/progress/loss_sum", "1.5", "/progress/loss_sum: must be a finite number >= 0"},
      {"/progress/history", json::array({1}),
       "/progress/history: must be an array of 0 rows, one per completed epoch"},
      {"/progress/last_layer_stats/0/name", "conv9",
       "/progress/last_layer_stats/0/name: must be \"conv1\" (this network's weighted layer)"},
      {"/progress/last_layer_stats/0/dy_histogram/counts", json::array({1, 2}),
       "/progress/last_layer_stats/0/dy_histogram/counts: must be an array of 41 counts"},
      {"/progress/last_layer_stats/3/tau", -1.0,
       "/progress/last_layer_stats/3/tau: must be a finite number >= 0"},
      {"/progress/rng", 5, "/progress/rng: unknown key"},
      {"/config/learning-rate", 0.1, "/config/learning-rate: not a key of this run's config"},
  };
  for (const auto& [pointer, value, problem] : cases) {
    INFO(pointer << " = " << value.dump());
    json h = header;
    h[json::json_pointer(pointer)] = value;
    write_checkpoint(ckpt, h, tensors);
    const std::string before = testing::read_bytes(ckpt);
    std::ostringstream log;
    CHECK_THROWS_WITH(run_training(c, log), name + ": " + problem);
    CHECK(testing::read_bytes(ckpt) == before);
    CHECK(testing::read_bytes(dir / "o" / "metrics.json") == metrics);
  }
  json h = header;
  h["progress"].erase("correct");
  write_checkpoint(ckpt, h, tensors);
  std::ostringstream log;
  CHECK_THROWS_WITH(run_training(c, log), name + ": /progress/correct: missing");
}

TEST_CASE("egtrain exits 1 on a checkpoint header that once crashed it", "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const fs::path out = dir / "o";
  const std::string flags = kTiny + " --out " + out.string();
  REQUIRE(run(flags + " --iterations 2", dir).exit_code == 0);
  const fs::path ckpt = out / "checkpoint.bin";
  auto [header, tensors] = split_checkpoint(ckpt);
  header["progress"]["batch_in_epoch"] = -1000000;
  write_checkpoint(ckpt, header, tensors);
  const std::string before = testing::read_bytes(ckpt);
  const std::string metrics = testing::read_bytes(out / "metrics.json");
  const RunResult r = run(flags + " --resume", dir);
  CHECK(r.exit_code == 1);
  CHECK(r.err == "egtrain: error: " + ckpt.string() +
                     ": /progress/batch_in_epoch: must be an integer in [0, 4], not -1000000\n");
  CHECK(testing::read_bytes(ckpt) == before);
  CHECK(testing::read_bytes(out / "metrics.json") == metrics);
}

TEST_CASE("truncated, oversized and corrupt checkpoint files are refused", "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const TrainConfig c = tiny_interrupted(dir / "o");
  const fs::path ckpt = dir / "o" / "checkpoint.bin";
  const auto [header, tensors] = split_checkpoint(ckpt);
  const std::string name = ckpt.string();
  const std::string text = header.dump();
  const size_t need = tensors.size();
  auto refused = [&](const std::string& problem) {
    std::ostringstream log;
    CHECK_THROWS_WITH(run_training(c, log), name + ": " + problem);
  };
  write_checkpoint(ckpt, text, tensors.substr(0, need - 4), text.size());
  refused("tensors: " + std::to_string(need - 4) +
          " bytes, but this network's parameters, momentum and BN statistics take " +
          std::to_string(need) + " (truncated, or made for a different network)");
  write_checkpoint(ckpt, text, tensors + "xxxx", text.size());
  refused("tensors: " + std::to_string(need + 4) +
          " bytes, but this network's parameters, momentum and BN statistics take " +
          std::to_string(need) + " (truncated, or made for a different network)");
  write_checkpoint(ckpt, text, tensors, ~uint64_t{0});
  refused("header: length 18446744073709551615 exceeds the 134217728-byte limit");
  write_checkpoint(ckpt, text, "", text.size() + 10);
  refused("header: truncated (length " + std::to_string(text.size() + 10) + ", " +
          std::to_string(text.size()) + " bytes follow)");
  write_checkpoint(ckpt, std::string(100, '['), tensors, 100);
  refused("header: JSON nested deeper than 64 levels");
  write_checkpoint(ckpt, "{\"config\": ", tensors, 11);
  CHECK_THROWS_WITH(
      [&] {
        std::ostringstream log;
        run_training(c, log);
      }(),
      Catch::StartsWith(name + ": header: not valid JSON ("));
  write_text(ckpt, "EGCKPT");
  refused("magic: not an egtrain checkpoint");
  std::string nan_tensors = tensors;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(nan_tensors.data(), &nan, sizeof nan);
  write_checkpoint(ckpt, text, nan_tensors, text.size());
  refused("tensors: conv1.w holds a non-finite value");
}

TEST_CASE("a resume that could not reach its trace iteration or limit is refused",
          "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  TrainConfig c = tiny_interrupted(dir / "o");
  const std::string name = (dir / "o" / "checkpoint.bin").string();
  std::ostringstream log;
  c.trace_out = (dir / "trace").string();
  c.trace_iteration = 2;
  CHECK_THROWS_WITH(run_training(c, log),
                    "config: key 'trace-iteration': the checkpoint " + name +
                        " is already at iteration 2, so iteration 2 would never be traced");
  c.trace_out.clear();
  c.trace_iteration = 0;
  c.iterations = 1;
  CHECK_THROWS_WITH(run_training(c, log), name +
                                              ": /progress/iteration: 2 is beyond this run's "
                                              "last iteration 1 (raise iterations to continue it)");
  CHECK_FALSE(fs::exists(dir / "trace"));
}

TEST_CASE("a run whose loss stops being finite ends with one line and writes nothing",
          "[train][bad-input]") {
  TempDir dir("egtrain-bad");
  const fs::path out = dir / "out", trace = dir / "trace";
  const RunResult r = run(kTiny + " --mode bp --lr 1e20 --trace-iteration 4 --trace-out " +
                              trace.string() + " --out " + out.string(),
                          dir);
  CHECK(r.exit_code == 1);
  // NaN or infinite, whichever the overflow gives first.
  CHECK_THAT(r.err,
             Catch::StartsWith("egtrain: error: training diverged: the loss of mini-batch ") &&
                 Catch::Contains(" (epoch 1) is ") &&
                 Catch::EndsWith("; a lower learning rate (--lr, or --manhattan-lr for sign "
                                 "updates) may train\n"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(files_under(out) == 0);
  CHECK_FALSE(fs::exists(trace));
  // The same run at the config's learning rate trains.
  CHECK(run(kTiny + " --mode bp --out " + (dir / "fine").string(), dir).exit_code == 0);
}
