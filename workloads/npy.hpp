#pragma once
// NumPy .npy (format 1.0) reading and writing for little-endian float32, C-order arrays: the tensor
// format of traces, so that any numpy can open them.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace eg {

using Shape = std::vector<int64_t>;

// Product of the extents; throws eg::Error for a negative extent or a product beyond 64 bits.
int64_t element_count(const Shape& shape);
std::string shape_string(const Shape& shape);  // "[2,3,4]"

struct NdArray {
  Shape shape;
  std::vector<float> data;
  int64_t size() const { return static_cast<int64_t>(data.size()); }
};

// Writes atomically (temporary file + rename). Throws eg::Error naming the path on failure.
void write_npy(const std::filesystem::path& path, const Shape& shape, const float* data);

// Reads only the header: shape. Validates magic, version (1.0, 2.0 or 3.0), a header of at most
// 65535 bytes that is exactly {'descr': '<f4', 'fortran_order': False, 'shape': (...)}, a rank of
// at most 32, a shape whose byte size fits 64 bits, and that the file size matches the shape.
// Throws eg::Error naming the path and the problem.
Shape read_npy_shape(const std::filesystem::path& path);

// Full read; additionally rejects NaN and Inf (naming the first bad flat index).
NdArray read_npy(const std::filesystem::path& path);

}  // namespace eg
