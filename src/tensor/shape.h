// Shape: up to kMaxDims dimensions, row-major.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "base/check.h"

namespace pagellm {

class Shape {
 public:
  static constexpr int kMaxDims = 6;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    CHECK_LE(static_cast<int>(dims.size()), kMaxDims);
    for (int64_t d : dims) dims_[rank_++] = d;
  }
  explicit Shape(const std::vector<int64_t>& dims) {
    CHECK_LE(static_cast<int>(dims.size()), kMaxDims);
    for (int64_t d : dims) dims_[rank_++] = d;
  }

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[Norm(i)]; }
  int64_t& operator[](int i) { return dims_[Norm(i)]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  std::vector<int64_t> ToVector() const { return {dims_.begin(), dims_.begin() + rank_}; }
  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[i] != o.dims_[i]) return false;
    return true;
  }
  std::string ToString() const;  // "[2, 3]"

 private:
  int Norm(int i) const {
    if (i < 0) i += rank_;
    CHECK(i >= 0 && i < rank_) << "dim " << i << " of rank " << rank_;
    return i;
  }
  std::array<int64_t, kMaxDims> dims_{};
  int rank_ = 0;
};

}  // namespace pagellm
