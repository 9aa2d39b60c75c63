// core/tensor.cpp — tensor construction, views, copies and element access.
// Device copies go through the backend of the non-CPU side; everything else is plain memory.
#include "core/tensor.h"

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "backends/backend.h"
#include "core/allocator.h"
#include "core/ops.h"

namespace bplab {

std::string shape_str(const Shape& s) {
    std::ostringstream o;
    o << '(';
    for (std::size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
    o << (s.size() == 1 ? ",)" : ")");
    return o.str();
}

std::int64_t shape_numel(const Shape& s) {
    std::int64_t n = 1;
    for (auto d : s) n *= d;
    return n;
}

Storage::Storage(std::size_t nbytes, Device device)
    : data_(allocator_for(device).allocate(nbytes)), nbytes_(nbytes), device_(device) {}

Storage::~Storage() { allocator_for(device_).deallocate(data_, nbytes_); }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
    for (auto d : shape)
        if (d < 0) throw std::invalid_argument("Tensor::empty: negative dimension in shape " + shape_str(shape));
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype), device);
    impl->shape = shape;
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
    Tensor t = empty(shape, dtype, device);
    backend_for(device).fill(t, value);
    return t;
}

Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype) {
    if (static_cast<std::int64_t>(values.size()) != shape_numel(shape))
        throw std::invalid_argument("Tensor::from_vector: " + std::to_string(values.size()) + " values for shape " +
                                    shape_str(shape));
    Tensor t = empty(shape, dtype);
    for (std::size_t i = 0; i < values.size(); ++i) {
        switch (dtype) {
            case DType::f32: t.data<float>()[i] = static_cast<float>(values[i]); break;
            case DType::f64: t.data<double>()[i] = values[i]; break;
            case DType::i32: t.data<std::int32_t>()[i] = static_cast<std::int32_t>(values[i]); break;
            case DType::i64: t.data<std::int64_t>()[i] = static_cast<std::int64_t>(values[i]); break;
            case DType::bf16: t.data<BFloat16>()[i] = BFloat16(static_cast<float>(values[i])); break;
        }
    }
    return t;
}

Tensor Tensor::from_indices(const std::vector<std::int64_t>& values, const Shape& shape) {
    if (static_cast<std::int64_t>(values.size()) != shape_numel(shape))
        throw std::invalid_argument("Tensor::from_indices: " + std::to_string(values.size()) + " values for shape " +
                                    shape_str(shape));
    Tensor t = empty(shape, DType::i64);
    if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(std::int64_t));
    return t;
}

TensorImpl& Tensor::impl() const {
    if (!impl_) throw std::logic_error("Tensor: use of an undefined tensor");
    return *impl_;
}

std::int64_t Tensor::size(std::int64_t d) const {
    const std::int64_t n = dim();
    const std::int64_t i = d < 0 ? d + n : d;
    if (i < 0 || i >= n) throw std::out_of_range("Tensor::size: dim " + std::to_string(d) + " of shape " + shape_str(shape()));
    return shape()[static_cast<std::size_t>(i)];
}

void Tensor::check_dtype(DType expected) const {
    if (dtype() != expected)
        throw std::invalid_argument(std::string("Tensor::data: tensor holds ") + dtype_name(dtype()) + ", asked for " +
                                    dtype_name(expected));
}

std::vector<double> Tensor::to_vector() const {
    const Tensor c = to(Device::cpu());
    std::vector<double> out(static_cast<std::size_t>(numel()));
    for (std::size_t i = 0; i < out.size(); ++i) {
        switch (dtype()) {
            case DType::f32: out[i] = c.data<float>()[i]; break;
            case DType::f64: out[i] = c.data<double>()[i]; break;
            case DType::i32: out[i] = c.data<std::int32_t>()[i]; break;
            case DType::i64: out[i] = static_cast<double>(c.data<std::int64_t>()[i]); break;
            case DType::bf16: out[i] = c.data<BFloat16>()[i]; break;
        }
    }
    return out;
}

double Tensor::item() const {
    if (numel() != 1) throw std::invalid_argument("Tensor::item: tensor of shape " + shape_str(shape()) + " has " +
                                                  std::to_string(numel()) + " elements, expected 1");
    return to_vector()[0];
}

Tensor Tensor::reshape(const Shape& shape) const { return bplab::reshape(*this, shape); }

Tensor Tensor::detach() const {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = impl_->storage;
    impl->shape = impl_->shape;
    impl->dtype = impl_->dtype;
    return Tensor(std::move(impl));
}

Tensor Tensor::clone() const {
    Tensor out = empty(shape(), dtype(), device());
    backend_for(device()).copy(out, *this);
    return out;
}

Tensor Tensor::to(Device target) const {
    if (target == device()) return *this;
    Tensor out = empty(shape(), dtype(), target);
    backend_for(target.is_cpu() ? device() : target).copy(out, *this);
    return out;
}

Tensor Tensor::to(DType target) const {
    if (target == dtype()) return *this;
    Tensor out = empty(shape(), target, device());
    backend_for(device()).cast(out, *this);
    return out;
}

Tensor& Tensor::set_requires_grad(bool on) {
    if (!is_leaf()) throw std::logic_error("Tensor::set_requires_grad: only leaves can be marked (this tensor has a grad_fn)");
    if (on && !is_floating(dtype()))
        throw std::invalid_argument(std::string("Tensor::set_requires_grad: ") + dtype_name(dtype()) + " tensors cannot require grad");
    impl().requires_grad = on;
    if (!on) impl().grad_accumulator.reset();
    return *this;
}

}  // namespace bplab
