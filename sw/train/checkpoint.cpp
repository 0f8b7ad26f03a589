#include "sw/train/checkpoint.hpp"

#include <cstring>
#include <fstream>

#include "base/error.hpp"

namespace eg::train {
namespace {

constexpr char kMagic[8] = {'E', 'G', 'C', 'K', 'P', 'T', '0', '1'};

std::vector<Tensor*> state_tensors(Network& net) {
  std::vector<Tensor*> all;
  for (Param* p : net.params()) {
    all.push_back(&p->value);
    all.push_back(&p->momentum);
  }
  for (Tensor* t : net.buffers()) all.push_back(t);
  return all;
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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open checkpoint");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 16 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw Error(path.string() + ": magic: not an egtrain checkpoint");
  uint64_t len = 0;
  std::memcpy(&len, bytes.data() + 8, sizeof len);
  if (16 + len > bytes.size()) throw Error(path.string() + ": header: truncated");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(16, len));
  } catch (const nlohmann::json::parse_error&) {
    throw Error(path.string() + ": header: invalid JSON");
  }
  size_t at = 16 + len;
  for (Tensor* t : state_tensors(net)) {
    const size_t n = t->data.size() * sizeof(float);
    if (at + n > bytes.size())
      throw Error(path.string() + ": tensors: truncated or made for a different network");
    std::memcpy(t->ptr(), bytes.data() + at, n);
    at += n;
  }
  if (at != bytes.size())
    throw Error(path.string() + ": tensors: size differs from this network's parameters");
  return header;
}

}  // namespace eg::train
