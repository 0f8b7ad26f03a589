// LibTorch side of scripts/bench_train_vs_libtorch.sh: trains the same ResNets as egtrain
// (CIFAR-form ResNet-18 / ResNet-20: 3x3 convs without bias, BN, ReLU, 1x1 conv+BN shortcut on a
// stride or width change, global average pool, fc; SGD with momentum and weight decay) on
// synthetic data, so data loading is out of the picture, and prints training images/s.
// The first iteration (allocator warm-up) is not timed, which favours LibTorch slightly.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct BasicBlockImpl : torch::nn::Module {
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, short_conv{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, short_bn{nullptr};

  BasicBlockImpl(int64_t cin, int64_t cout, int64_t stride) {
    auto conv = [](int64_t i, int64_t o, int64_t k, int64_t s, int64_t p) {
      return torch::nn::Conv2d(torch::nn::Conv2dOptions(i, o, k).stride(s).padding(p).bias(false));
    };
    conv1 = register_module("conv1", conv(cin, cout, 3, stride, 1));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(cout));
    conv2 = register_module("conv2", conv(cout, cout, 3, 1, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(cout));
    if (stride != 1 || cin != cout) {
      short_conv = register_module("short_conv", conv(cin, cout, 1, stride, 0));
      short_bn = register_module("short_bn", torch::nn::BatchNorm2d(cout));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(bn1(conv1(x)));
    y = bn2(conv2(y));
    auto s = short_conv ? short_bn(short_conv(x)) : x;
    return torch::relu(y + s);
  }
};
TORCH_MODULE(BasicBlock);

struct ResNetImpl : torch::nn::Module {
  torch::nn::Conv2d stem{nullptr};
  torch::nn::BatchNorm2d stem_bn{nullptr};
  torch::nn::Sequential blocks;
  torch::nn::Linear fc{nullptr};

  ResNetImpl(const std::vector<int64_t>& widths, const std::vector<int64_t>& counts,
             const std::vector<int64_t>& strides, int64_t channels, int64_t classes) {
    stem = register_module(
        "stem",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, widths[0], 3).padding(1).bias(false)));
    stem_bn = register_module("stem_bn", torch::nn::BatchNorm2d(widths[0]));
    int64_t cin = widths[0];
    for (size_t s = 0; s < widths.size(); ++s)
      for (int64_t i = 0; i < counts[s]; ++i) {
        blocks->push_back(BasicBlock(cin, widths[s], i == 0 ? strides[s] : 1));
        cin = widths[s];
      }
    register_module("blocks", blocks);
    fc = register_module("fc",
                         torch::nn::Linear(torch::nn::LinearOptions(cin, classes).bias(false)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(stem_bn(stem(x)));
    y = blocks->forward(y);
    y = torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1);
    return fc(y);
  }
};
TORCH_MODULE(ResNet);

}  // namespace

int main(int argc, char** argv) {
  std::string network = "resnet20";
  int64_t batch = 64, iterations = 30, threads = 2, channels = 1, height = 28, width = 28;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--network")
      network = value;
    else if (key == "--batch")
      batch = std::stoll(value);
    else if (key == "--iterations")
      iterations = std::stoll(value);
    else if (key == "--threads")
      threads = std::stoll(value);
    else if (key == "--channels")
      channels = std::stoll(value);
    else if (key == "--height")
      height = std::stoll(value);
    else if (key == "--width")
      width = std::stoll(value);
    else {
      std::fprintf(stderr, "libtorch_train_step: unknown flag %s\n", key.c_str());
      return 2;
    }
  }
  torch::set_num_threads(static_cast<int>(threads));
  torch::manual_seed(1);
  const bool r18 = network == "resnet18";
  const std::vector<int64_t> widths =
      r18 ? std::vector<int64_t>{64, 128, 256, 512} : std::vector<int64_t>{16, 32, 64};
  const std::vector<int64_t> counts =
      r18 ? std::vector<int64_t>{2, 2, 2, 2} : std::vector<int64_t>{3, 3, 3};
  const std::vector<int64_t> strides =
      r18 ? std::vector<int64_t>{1, 2, 2, 2} : std::vector<int64_t>{1, 2, 2};
  ResNet net(widths, counts, strides, channels, int64_t{10});
  net->train();
  torch::optim::SGD opt(net->parameters(),
                        torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4));
  const auto x = torch::randn({batch, channels, height, width});
  const auto y = torch::randint(0, 10, {batch}, torch::kLong);
  auto step = [&] {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
  };
  step();  // warm-up, not timed
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iterations; ++i) step();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("train throughput: %.1f images/s over %lld iterations\n",
              static_cast<double>(batch * iterations) / s, static_cast<long long>(iterations));
  return 0;
}
