// core/tensor.h — the n-dimensional array that everything in bplab computes on.
// A Tensor is a cheap handle to shared storage; reshape is a view, transpose is an explicit copy.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"

namespace bplab {

using Shape = std::vector<std::int64_t>;
std::string shape_str(const Shape& s);  ///< "(2, 3, 4)"
std::int64_t shape_numel(const Shape& s);

struct Node;

/// A block of bytes on one device, returned to its allocator when the last tensor using it dies.
class Storage {
public:
    Storage(std::size_t nbytes, Device device);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
    void* data() const { return data_; }
    std::size_t nbytes() const { return nbytes_; }
    Device device() const { return device_; }

private:
    void* data_;
    std::size_t nbytes_;
    Device device_;
};

struct TensorImpl {
    std::shared_ptr<Storage> storage;
    Shape shape;
    DType dtype = DType::f32;
    bool requires_grad = false;
    std::shared_ptr<TensorImpl> grad;        ///< accumulated gradient of a leaf
    std::shared_ptr<Node> grad_fn;           ///< the node that made this tensor (non-leaves)
    std::size_t output_index = 0;            ///< which of grad_fn's outputs this tensor is
    std::shared_ptr<Node> grad_accumulator;  ///< the node that accumulates into `grad` (leaves)
};

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    /// Uninitialised tensor.
    static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
    static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
    static Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu());
    static Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device()); }
    static Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
    /// A CPU tensor holding `values` (converted to `dtype`).
    static Tensor from_vector(const std::vector<double>& values, const Shape& shape, DType dtype = DType::f32);
    static Tensor from_indices(const std::vector<std::int64_t>& values, const Shape& shape);

    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const { return impl().shape; }
    std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
    /// Size of dimension d; negative d counts from the end.
    std::int64_t size(std::int64_t d) const;
    std::int64_t numel() const { return shape_numel(shape()); }
    DType dtype() const { return impl().dtype; }
    Device device() const { return impl().storage->device(); }
    std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype()); }

    void* raw_data() const { return impl().storage->data(); }
    /// Typed pointer to the elements; throws if T is not the tensor's dtype.
    template <class T> T* data() const {
        check_dtype(dtype_of<T>());
        return static_cast<T*>(raw_data());
    }

    /// Value of a one-element tensor (CPU), as double.
    double item() const;
    /// All elements as doubles (copied to the CPU).
    std::vector<double> to_vector() const;

    /// A view with another shape (one entry may be -1). Recorded by autograd.
    Tensor reshape(const Shape& shape) const;
    /// Same storage, no history, no grad.
    Tensor detach() const;
    /// A copy of the data, no history.
    Tensor clone() const;
    /// Explicit copy to another device (the same tensor if it is already there).
    Tensor to(Device device) const;
    /// Explicit conversion to another dtype, no history.
    Tensor to(DType dtype) const;

    bool requires_grad() const { return impl().requires_grad; }
    /// Marks a leaf as a parameter whose gradient backward() accumulates into grad().
    Tensor& set_requires_grad(bool on = true);
    Tensor grad() const { return Tensor(impl().grad); }
    void set_grad(const Tensor& g) { impl().grad = g.impl_; }
    void zero_grad() { impl().grad.reset(); }
    const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
    bool is_leaf() const { return impl().grad_fn == nullptr; }

    bool same(const Tensor& other) const { return impl_ == other.impl_; }
    TensorImpl& impl() const;
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

private:
    void check_dtype(DType expected) const;
    std::shared_ptr<TensorImpl> impl_;
};

}  // namespace bplab
