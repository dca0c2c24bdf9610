#include "tensor/tensor.h"

#include <fmt/format.h>

namespace pagellm {

std::string Shape::ToString() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
  return s + "]";
}

Tensor::Tensor(void* data, DType dtype, Shape shape, Device device)
    : data_(data), dtype_(dtype), shape_(shape), device_(device) {
  SetContiguousStrides();
}

void Tensor::SetContiguousStrides() {
  int64_t s = 1;
  for (int i = shape_.rank() - 1; i >= 0; --i) {
    strides_[i] = s;
    s *= shape_[i];
  }
}

StatusOr<Tensor> Tensor::Empty(const Shape& shape, DType dtype, Device device) {
  Allocator* alloc = GetAllocator(device);
  if (!alloc) return UnavailableError("no allocator for device " + device.ToString());
  size_t bytes = static_cast<size_t>(shape.numel()) * DTypeSize(dtype);
  ASSIGN_OR_RETURN(std::shared_ptr<Buffer> buf, alloc->Allocate(bytes));
  Tensor t(buf->data(), dtype, shape, device);
  t.buffer_ = std::move(buf);
  return t;
}

Tensor Tensor::EmptyHost(const Shape& shape, DType dtype) {
  auto t = Empty(shape, dtype, Device::Cpu());
  CHECK(t.ok()) << t.status().ToString();
  return *std::move(t);
}

Tensor Tensor::FromVector(const std::vector<float>& v, const Shape& shape, DType dtype) {
  CHECK_EQ(static_cast<int64_t>(v.size()), shape.numel());
  Tensor t = EmptyHost(shape, dtype);
  ConvertBuffer(v.data(), DType::kF32, t.data(), dtype, v.size());
  return t;
}

Tensor Tensor::FromInts(const std::vector<int32_t>& v) {
  Tensor t = EmptyHost(Shape{static_cast<int64_t>(v.size())}, DType::kI32);
  if (!v.empty()) std::memcpy(t.data(), v.data(), v.size() * 4);
  return t;
}

bool Tensor::is_contiguous() const {
  int64_t s = 1;
  for (int i = rank() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != s) return false;
    s *= shape_[i];
  }
  return true;
}

Tensor Tensor::Reshape(const Shape& shape) const {
  CHECK(is_contiguous()) << "Reshape of a non-contiguous tensor";
  CHECK_EQ(shape.numel(), numel()) << shape.ToString() << " vs " << shape_.ToString();
  Tensor t = *this;
  t.shape_ = shape;
  t.SetContiguousStrides();
  return t;
}

Tensor Tensor::Slice(int dim, int64_t start, int64_t end) const {
  if (dim < 0) dim += rank();
  CHECK(start >= 0 && start <= end && end <= shape_[dim])
      << "Slice [" << start << ", " << end << ") of dim " << dim << " size " << shape_[dim];
  Tensor t = *this;
  t.data_ = static_cast<char*>(data_) + start * strides_[dim] * DTypeSize(dtype_);
  t.shape_[dim] = end - start;
  return t;
}

Tensor Tensor::Select(int64_t index) const {
  CHECK_GE(rank(), 1);
  CHECK(index >= 0 && index < shape_[0]);
  Tensor t;
  t.data_ = static_cast<char*>(data_) + index * strides_[0] * DTypeSize(dtype_);
  t.dtype_ = dtype_;
  t.device_ = device_;
  t.buffer_ = buffer_;
  std::vector<int64_t> dims;
  for (int i = 1; i < rank(); ++i) {
    dims.push_back(shape_[i]);
    t.strides_[i - 1] = strides_[i];
  }
  t.shape_ = Shape(dims);
  return t;
}

float Tensor::At(int64_t i) const {
  CHECK(device_.is_cpu());
  int64_t off = 0;
  for (int d = rank() - 1; d >= 0; --d) {
    off += (i % shape_[d]) * strides_[d];
    i /= shape_[d];
  }
  return LoadAsFloat(data_, dtype_, static_cast<size_t>(off));
}

std::vector<float> Tensor::ToFloatVector() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  if (is_contiguous()) {
    ConvertBuffer(data_, dtype_, out.data(), DType::kF32, out.size());
  } else {
    for (int64_t i = 0; i < numel(); ++i) out[i] = At(i);
  }
  return out;
}

std::string Tensor::DebugString() const {
  return fmt::format("Tensor({}, {}, {})", DTypeName(dtype_), shape_.ToString(), device_.ToString());
}

}  // namespace pagellm
