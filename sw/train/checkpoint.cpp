#include "sw/train/checkpoint.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <string_view>

#include "base/checked.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"
#include "sw/train/limits.hpp"

namespace eg::train {
namespace {

constexpr char kMagic[8] = {'E', 'G', 'C', 'K', 'P', 'T', '0', '1'};
// Magic, then the header's length as a little-endian uint64.
constexpr size_t kPrefixBytes = sizeof kMagic + sizeof(uint64_t);

std::vector<Tensor*> state_tensors(Network& net) {
  std::vector<Tensor*> all;
  for (Param* p : net.params()) {
    all.push_back(&p->value);
    all.push_back(&p->momentum);
  }
  for (Tensor* t : net.buffers()) all.push_back(t);
  return all;
}

// Names of state_tensors(net), in the same order, for messages: "layer1.0.bn1.gamma.momentum".
std::vector<std::string> state_names(Network& net) {
  std::vector<std::string> names, buffers;
  for (Node& n : net.nodes()) {
    if (!n.layer) continue;
    for (Param* p : n.layer->params()) {
      names.push_back(n.name + "." + p->name);
      names.push_back(n.name + "." + p->name + ".momentum");
    }
    const size_t count = n.layer->buffers().size();
    for (size_t k = 0; k < count; ++k) buffers.push_back(n.name + ".buffer" + std::to_string(k));
  }
  names.insert(names.end(), buffers.begin(), buffers.end());
  return names;
}

}  // namespace

std::string checkpoint_bytes(const nlohmann::json& header, Network& net) {
  const std::string text = header.dump();
  std::string bytes(kMagic, sizeof kMagic);
  const uint64_t len = text.size();
  bytes.append(reinterpret_cast<const char*>(&len), sizeof len);
  bytes += text;
  for (Tensor* t : state_tensors(net))
    bytes.append(reinterpret_cast<const char*>(t->ptr()), t->data.size() * sizeof(float));
  return bytes;
}

nlohmann::json load_checkpoint(const std::filesystem::path& path, Network& net) {
  const std::string name = path.string();
  const std::vector<Tensor*> tensors = state_tensors(net);
  int64_t tensor_bytes = 0;
  for (const Tensor* t : tensors)
    tensor_bytes =
        checked_add(tensor_bytes, checked_mul(t->size(), int64_t(sizeof(float)), name), name);
  // A FIFO or device would block or never end; only a regular file can be a checkpoint.
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw Error(name + ": not a regular file");
  // The largest file this network's checkpoint can be: magic, length, header, tensors.
  const std::string bytes =
      read_file(path, kPrefixBytes + kMaxCheckpointHeaderBytes + size_t(tensor_bytes));
  if (bytes.size() < kPrefixBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw Error(name + ": magic: not an egtrain checkpoint");
  uint64_t len = 0;
  std::memcpy(&len, bytes.data() + sizeof kMagic, sizeof len);
  if (len > kMaxCheckpointHeaderBytes)
    throw Error(name + ": header: length " + std::to_string(len) + " exceeds the " +
                std::to_string(kMaxCheckpointHeaderBytes) + "-byte limit");
  if (len > bytes.size() - kPrefixBytes)
    throw Error(name + ": header: truncated (length " + std::to_string(len) + ", " +
                std::to_string(bytes.size() - kPrefixBytes) + " bytes follow)");
  nlohmann::json header =
      parse_json(std::string_view(bytes).substr(kPrefixBytes, len), name + ": header");
  const size_t rest = bytes.size() - kPrefixBytes - len;
  if (rest != size_t(tensor_bytes))
    throw Error(name + ": tensors: " + std::to_string(rest) + " bytes, but this network's " +
                "parameters, momentum and BN statistics take " + std::to_string(tensor_bytes) +
                " (truncated, or made for a different network)");
  size_t at = kPrefixBytes + len;
  for (Tensor* t : tensors) {
    const size_t n = t->data.size() * sizeof(float);
    std::memcpy(t->ptr(), bytes.data() + at, n);
    at += n;
  }
  // Training never stores NaN or Inf on purpose; one in the file would poison every later step.
  for (size_t i = 0; i < tensors.size(); ++i)
    for (const float v : tensors[i]->data)
      if (!std::isfinite(v))
        throw Error(name + ": tensors: " + state_names(net).at(i) + " holds a non-finite value");
  return header;
}

}  // namespace eg::train
