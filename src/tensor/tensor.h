// Tensor: a strided view of typed memory. It may keep its Buffer alive (shared), or borrow
// memory owned elsewhere (an mmapped checkpoint, a KV cache). Copying a Tensor copies the view.
#pragma once

#include <memory>
#include <vector>

#include "tensor/buffer.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace pagellm {

class Tensor {
 public:
  Tensor() = default;
  // Borrowed contiguous view of `data`.
  Tensor(void* data, DType dtype, Shape shape, Device device = Device::Cpu());

  // A fresh contiguous tensor (uninitialized) on `device`.
  static StatusOr<Tensor> Empty(const Shape& shape, DType dtype, Device device = Device::Cpu());
  // Host-only helpers for tests and small tables.
  static Tensor EmptyHost(const Shape& shape, DType dtype);  // CHECKs on OOM
  static Tensor FromVector(const std::vector<float>& v, const Shape& shape, DType dtype = DType::kF32);
  static Tensor FromInts(const std::vector<int32_t>& v);

  bool defined() const { return data_ != nullptr || (shape_.rank() > 0 && shape_.numel() == 0); }
  void* data() const { return data_; }
  template <typename T>
  T* data() const { return static_cast<T*>(data_); }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t stride(int i) const { return strides_[i < 0 ? i + rank() : i]; }
  int64_t numel() const { return shape_.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * DTypeSize(dtype_); }
  Device device() const { return device_; }
  bool is_contiguous() const;
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }

  // Views (share memory). REQUIRES: for Reshape, a contiguous tensor with equal numel.
  Tensor Reshape(const Shape& shape) const;
  Tensor Slice(int dim, int64_t start, int64_t end) const;  // [start, end) along dim
  Tensor Select(int64_t index) const;                       // drops dim 0

  // Host only: element i (row-major logical index) as float.
  float At(int64_t i) const;
  std::vector<float> ToFloatVector() const;  // host, any float dtype
  std::string DebugString() const;

 private:
  void* data_ = nullptr;
  DType dtype_ = DType::kF32;
  Shape shape_;
  std::array<int64_t, Shape::kMaxDims> strides_{};
  Device device_;
  std::shared_ptr<Buffer> buffer_;

  void SetContiguousStrides();
};

}  // namespace pagellm
