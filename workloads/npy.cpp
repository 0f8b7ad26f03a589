#include "workloads/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/checked.hpp"
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

// Reader limits. A header is a short Python dict literal: numpy pads it to 64 bytes and a float32
// header of the largest rank below needs about 400; version 1's 16-bit length field already stops
// at 65535, and versions 2 and 3 (4-byte length) are held to the same bound so that a corrupt
// length cannot make the reader allocate gigabytes.
constexpr size_t kMaxNpyHeaderBytes = 65535;
// numpy's own rank limit (NPY_MAXDIMS) before numpy 2.0; traces use rank 2 and 4.
constexpr size_t kMaxNpyRank = 32;

// A strict reader of the header dict numpy writes: {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), } with any spacing, the three keys once each in any order, and nothing else.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const fs::path& path) : text_(text), path_(path) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(path_.string() + ": npy header: " + problem);
  }

  Shape parse() {
    skip_space();
    expect('{', "must be a Python dict starting with '{'");
    bool have_descr = false, have_order = false, have_shape = false;
    Shape shape;
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = quoted("a quoted key");
      skip_space();
      expect(':', "expected ':' after '" + key + "'");
      skip_space();
      if (key == "descr") {
        if (have_descr) fail("key 'descr' appears twice");
        have_descr = true;
        const std::string descr = quoted("'descr' must be a quoted dtype");
        if (descr != "<f4") fail("'descr' is '" + descr + "', not little-endian float32 '<f4'");
      } else if (key == "fortran_order") {
        if (have_order) fail("key 'fortran_order' appears twice");
        have_order = true;
        if (word("False")) {
        } else if (word("True")) {
          fail("'fortran_order' is True; only C order (False) is supported");
        } else {
          fail("'fortran_order' must be True or False");
        }
      } else if (key == "shape") {
        if (have_shape) fail("key 'shape' appears twice");
        have_shape = true;
        shape = parse_shape();
      } else {
        fail("unknown key '" + key + "' (expected 'descr', 'fortran_order' and 'shape')");
      }
      skip_space();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}' after the value of '" + key + "'");
    }
    ++at_;  // '}'
    skip_space();
    if (at_ != text_.size()) fail("unexpected text after the dict");
    if (!have_descr) fail("lacks 'descr'");
    if (!have_order) fail("lacks 'fortran_order'");
    if (!have_shape) fail("lacks 'shape'");
    return shape;
  }

 private:
  char peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }
  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\t'))
      ++at_;
  }
  void expect(char c, const std::string& problem) {
    if (peek() != c) fail(problem);
    ++at_;
  }
  bool word(const char* w) {
    const size_t n = std::strlen(w);
    if (text_.compare(at_, n, w) != 0) return false;
    at_ += n;
    return true;
  }
  std::string quoted(const std::string& what) {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected " + what);
    const size_t end = text_.find(q, at_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string s = text_.substr(at_ + 1, end - at_ - 1);
    at_ = end + 1;
    return s;
  }
  Shape parse_shape() {
    expect('(', "'shape' must be a tuple of integers");
    Shape shape;
    for (;;) {
      skip_space();
      if (peek() == ')') break;
      const size_t begin = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      if (at_ == begin) fail("'shape' must be a tuple of non-negative integers");
      const std::string digits = text_.substr(begin, at_ - begin);
      int64_t v = 0;
      for (char d : digits)
        if (__builtin_mul_overflow(v, int64_t{10}, &v) || __builtin_add_overflow(v, d - '0', &v))
          fail("'shape' entry " + digits + " is out of range");
      shape.push_back(v);
      if (shape.size() > kMaxNpyRank)
        fail("'shape' has more than " + std::to_string(kMaxNpyRank) + " dimensions");
      skip_space();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      if (peek() != ')') fail("'shape' must be a tuple of integers");
    }
    ++at_;  // ')'
    return shape;
  }

  const std::string& text_;
  const fs::path& path_;
  size_t at_ = 0;
};

// An open file descriptor, closed on every path out.
class InputFile {
 public:
  explicit InputFile(const fs::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(path.string() + ": missing or unreadable (" + errno_text(errno) + ")");
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw Error(path.string() + ": not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  uint64_t size() const { return size_; }
  // Reads exactly `n` bytes; false when the file ends first.
  bool read(void* out, size_t n) {
    char* p = static_cast<char*>(out);
    while (n > 0) {
      const ssize_t got = ::read(fd_, p, n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw Error(path_.string() + ": read failed (" + errno_text(errno) + ")");
      if (got == 0) return false;
      p += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }

 private:
  const fs::path& path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

struct Header {
  Shape shape;
  int64_t elements = 0;
  uint64_t data_offset = 0;
};

// Reads and checks the header, and that the file holds exactly the data the shape declares.
Header read_header(InputFile& in, const fs::path& path) {
  char magic[kMagicSize];
  if (!in.read(magic, kMagicSize) || std::memcmp(magic, kMagic, kMagicSize) != 0)
    throw Error(path.string() + ": not a .npy file (bad magic)");
  unsigned char version[2];
  if (!in.read(version, 2)) throw Error(path.string() + ": truncated .npy header");
  if (version[0] < 1 || version[0] > 3 || version[1] != 0)
    throw Error(path.string() + ": unsupported .npy version " + std::to_string(version[0]) + "." +
                std::to_string(version[1]) + " (expected 1.0, 2.0 or 3.0)");
  const size_t len_bytes = version[0] == 1 ? 2 : 4;
  unsigned char len[4] = {0, 0, 0, 0};
  if (!in.read(len, len_bytes)) throw Error(path.string() + ": truncated .npy header");
  const uint64_t header_len = uint64_t{len[0]} | (uint64_t{len[1]} << 8) |
                              (uint64_t{len[2]} << 16) | (uint64_t{len[3]} << 24);
  if (header_len > kMaxNpyHeaderBytes)
    throw Error(path.string() + ": npy header length " + std::to_string(header_len) +
                " exceeds the limit of " + std::to_string(kMaxNpyHeaderBytes) + " bytes");
  Header h;
  h.data_offset = kMagicSize + 2 + len_bytes + header_len;
  if (in.size() < h.data_offset) throw Error(path.string() + ": truncated .npy header");
  std::string dict(static_cast<size_t>(header_len), '\0');
  if (!in.read(dict.data(), dict.size())) throw Error(path.string() + ": truncated .npy header");
  h.shape = HeaderParser(dict, path).parse();
  const std::string what = path.string() + ": npy header: 'shape' " + shape_string(h.shape);
  h.elements = checked_product(h.shape, what);
  const uint64_t data_bytes =
      checked_mul(static_cast<uint64_t>(h.elements), uint64_t{sizeof(float)}, what);
  const uint64_t expect = checked_add(h.data_offset, data_bytes, what);
  if (in.size() != expect)
    throw Error(path.string() + ": file size " + std::to_string(in.size()) + " bytes, expected " +
                std::to_string(expect) + " for shape " + shape_string(h.shape));
  return h;
}

}  // namespace

int64_t element_count(const Shape& shape) {
  return checked_product(shape, "element count of shape " + shape_string(shape));
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
  InputFile in(path);
  return read_header(in, path).shape;
}

NdArray read_npy(const fs::path& path) {
  InputFile in(path);
  const Header h = read_header(in, path);
  NdArray a;
  a.shape = h.shape;
  // The size check above bounds the allocation by the file's real size.
  a.data.resize(static_cast<size_t>(h.elements));
  if (!in.read(a.data.data(), a.data.size() * sizeof(float)))
    throw Error(path.string() + ": truncated data");
  for (size_t i = 0; i < a.data.size(); ++i) {
    if (!std::isfinite(a.data[i]))
      throw Error(path.string() + ": non-finite value (" + std::to_string(a.data[i]) +
                  ") at flat index " + std::to_string(i));
  }
  return a;
}

}  // namespace eg
