// LoadWeight: a checked, dtype-converted Get (weight_source.h).
#include "model/weight_source.h"

namespace pagellm {

StatusOr<Tensor> LoadWeight(const WeightSource& source, const std::string& name, const Shape& expected,
                            DType dtype) {
  auto t = source.Get(name);
  if (!t.ok()) {
    if (t.status().code() == StatusCode::kNotFound)
      return NotFoundError(source.Describe() + ": missing tensor '" + name + "'");
    return t.status();
  }
  if (!(t->shape() == expected))
    return InvalidArgumentError(source.Describe() + ": tensor '" + name + "' has shape " +
                                t->shape().ToString() + ", expected " + expected.ToString());
  if (t->dtype() == dtype) return t;
  auto convertible = [](DType d) { return d == DType::kF32 || d == DType::kF16 || d == DType::kBF16; };
  if (!convertible(t->dtype()) || !convertible(dtype))
    return UnimplementedError(source.Describe() + ": tensor '" + name + "' is " +
                              std::string(DTypeName(t->dtype())) + ", cannot convert to " +
                              std::string(DTypeName(dtype)));
  ASSIGN_OR_RETURN(Tensor out, Tensor::Empty(expected, dtype, Device::Cpu()));
  ConvertBuffer(t->data(), t->dtype(), out.data(), dtype, static_cast<size_t>(out.numel()));
  return out;
}

}  // namespace pagellm
