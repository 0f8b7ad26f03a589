#include "workloads/npy.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "base/files.hpp"

namespace eg {
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

std::string header_dict(const Shape& shape) {
  std::ostringstream os;
  os << "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    os << shape[i];
    if (shape.size() == 1 || i + 1 < shape.size()) os << ",";
    if (i + 1 < shape.size()) os << " ";
  }
  os << "), }";
  return os.str();
}

// Finds the value text following 'key': in a numpy header dict.
std::string dict_value(const std::string& dict, const std::string& key, const fs::path& path) {
  const std::string quoted = "'" + key + "'";
  auto at = dict.find(quoted);
  if (at == std::string::npos) throw Error(path.string() + ": npy header lacks '" + key + "'");
  at = dict.find(':', at + quoted.size());
  if (at == std::string::npos)
    throw Error(path.string() + ": npy header malformed near '" + key + "'");
  ++at;
  while (at < dict.size() && dict[at] == ' ') ++at;
  if (at >= dict.size()) throw Error(path.string() + ": npy header malformed near '" + key + "'");
  size_t end = at;
  if (dict[at] == '(') {
    end = dict.find(')', at);
    if (end == std::string::npos) throw Error(path.string() + ": npy header shape is not closed");
    return dict.substr(at, end - at + 1);
  }
  while (end < dict.size() && dict[end] != ',' && dict[end] != '}') ++end;
  return dict.substr(at, end - at);
}

Shape parse_shape(const std::string& text, const fs::path& path) {
  Shape shape;
  std::string inner = text.substr(1, text.size() - 2);
  std::stringstream ss(inner);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    size_t e = item.find_last_not_of(' ');
    item = item.substr(b, e - b + 1);
    char* endp = nullptr;
    long long v = std::strtoll(item.c_str(), &endp, 10);
    if (*endp != '\0' || v < 0)
      throw Error(path.string() + ": npy header shape has bad entry '" + item + "'");
    shape.push_back(v);
  }
  return shape;
}

struct Header {
  Shape shape;
  size_t data_offset = 0;
};

Header read_header(std::ifstream& in, const fs::path& path) {
  char magic[kMagicSize];
  in.read(magic, kMagicSize);
  if (!in || std::memcmp(magic, kMagic, kMagicSize) != 0)
    throw Error(path.string() + ": not a .npy file (bad magic)");
  unsigned char version[2];
  in.read(reinterpret_cast<char*>(version), 2);
  if (!in) throw Error(path.string() + ": truncated .npy header");
  size_t header_len = 0;
  size_t prefix = kMagicSize + 2;
  if (version[0] == 1) {
    unsigned char len[2];
    in.read(reinterpret_cast<char*>(len), 2);
    header_len = len[0] | (len[1] << 8);
    prefix += 2;
  } else if (version[0] == 2 || version[0] == 3) {
    unsigned char len[4];
    in.read(reinterpret_cast<char*>(len), 4);
    header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (size_t(len[3]) << 24);
    prefix += 4;
  } else {
    throw Error(path.string() + ": unsupported .npy version " + std::to_string(version[0]));
  }
  if (!in || header_len > (1u << 20)) throw Error(path.string() + ": truncated .npy header");
  std::string dict(header_len, '\0');
  in.read(dict.data(), static_cast<std::streamsize>(header_len));
  if (!in) throw Error(path.string() + ": truncated .npy header");
  const std::string descr = dict_value(dict, "descr", path);
  if (descr != "'<f4'")
    throw Error(path.string() + ": dtype " + descr + " is not little-endian float32 '<f4'");
  const std::string order = dict_value(dict, "fortran_order", path);
  if (order != "False") throw Error(path.string() + ": fortran_order must be False (C order)");
  Header h;
  h.shape = parse_shape(dict_value(dict, "shape", path), path);
  h.data_offset = prefix + header_len;
  return h;
}

}  // namespace

int64_t element_count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

void write_npy(const fs::path& path, const Shape& shape, const float* data) {
  std::string dict = header_dict(shape);
  // Pad with spaces so that magic + version + length + dict + '\n' is a multiple of 64 bytes.
  const size_t unpadded = kMagicSize + 2 + 2 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  static_assert(sizeof(float) == 4, "float32 expected");
  const std::size_t payload = static_cast<std::size_t>(element_count(shape)) * sizeof(float);
  std::string bytes;
  bytes.reserve(kMagicSize + 4 + dict.size() + payload);
  bytes.append(kMagic, kMagicSize);
  bytes.push_back(1);  // format version 1.0
  bytes.push_back(0);
  bytes.push_back(static_cast<char>(dict.size() & 0xff));
  bytes.push_back(static_cast<char>(dict.size() >> 8));
  bytes += dict;
  bytes.append(reinterpret_cast<const char*>(data), payload);
  write_file_atomic(path, bytes);
}

Shape read_npy_shape(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": file missing or unreadable");
  Header h = read_header(in, path);
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  const uint64_t expect = h.data_offset + uint64_t(element_count(h.shape)) * 4;
  if (ec || size != expect)
    throw Error(path.string() + ": file size " + std::to_string(size) + " bytes, expected " +
                std::to_string(expect) + " for shape " + shape_string(h.shape));
  return h.shape;
}

NdArray read_npy(const fs::path& path) {
  NdArray a;
  a.shape = read_npy_shape(path);
  std::ifstream in(path, std::ios::binary);
  Header h = read_header(in, path);
  a.data.resize(static_cast<size_t>(element_count(a.shape)));
  in.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(a.data.size() * 4));
  if (!in) throw Error(path.string() + ": truncated data");
  for (size_t i = 0; i < a.data.size(); ++i) {
    if (!std::isfinite(a.data[i]))
      throw Error(path.string() + ": non-finite value (" + std::to_string(a.data[i]) +
                  ") at flat index " + std::to_string(i));
  }
  return a;
}

}  // namespace eg
